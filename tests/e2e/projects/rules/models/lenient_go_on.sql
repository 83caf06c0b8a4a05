select * from (values ('200000000000000015', 'PAUSED'), ('200000000000000016', 'PAUSED'),
                      ('200000000000000019', 'PAUSED')) as t (object_id, desired_status)
