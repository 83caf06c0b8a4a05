select * from (values ('200000000000000012', 'PAUSED'), ('200000000000000013', 'PAUSED'),
                      ('200000000000000014', 'PAUSED')) as t (object_id, desired_status)
