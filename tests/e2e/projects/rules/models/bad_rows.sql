-- One row per kind of bad input, next to rows that are fine: the bad ones must be refused
-- one by one, and the good ones applied.
select * from (values
    ('1.2024733252791042e+17', 'PAUSED', null, null),
    ('abc', 'PAUSED', null, null),
    ('', 'PAUSED', null, null),
    ('200000000000000003', 'PAUSED', null, null),
    ('200000000000000003', 'ACTIVE', null, null),
    ('200000000000000004', 'enabled', null, null),
    ('200000000000000005', null, cast(-100 as decimal(38, 2)), null),
    ('200000000000000006', null, cast(0 as decimal(38, 2)), null),
    ('200000000000000007', null, cast(5000.5 as decimal(38, 2)), null),
    ('200000000000000017', null, cast(99999999999999999999 as decimal(38, 2)), null),
    ('300000000000000001', null, cast(1000 as decimal(38, 2)), null),
    ('200000000000000018', null, cast(1000 as decimal(38, 2)), cast(50000 as decimal(38, 2))),
    ('900000000000000001', 'PAUSED', null, null),
    ('999999999999999999', 'PAUSED', null, null),
    ('200000000000000008', ' paused ', null, null),
    ('200000000000000009', null, cast(6000 as decimal(38, 2)), null),
    ('200000000000000010', null, null, null),
    ('200000000000000020', null, cast(3000 as decimal(38, 2)), null),
    ('200000000000000021', null, cast(50 as decimal(38, 2)), null),
    ('200000000000000022', null, cast(1050 as decimal(38, 2)), null),
    ('300000000000000002', 'ACTIVE', null, null)
) as t (object_id, desired_status, daily_budget, lifetime_budget)
