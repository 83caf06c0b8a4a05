select cast(null as varchar) as object_id, cast(null as varchar) as desired_status where 1 = 0
