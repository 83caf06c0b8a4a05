select cast(200000000000000011 as double precision) as object_id, 'PAUSED' as desired_status
