select * from (values ('400000000000000001', cast(6000 as decimal(18, 2))),
                      ('400000000000000002', cast(6000.5 as decimal(18, 2)))) as t (adset_id, budget_yen)
