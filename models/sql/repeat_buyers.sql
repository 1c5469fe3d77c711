-- Customers who bought on at least three different days (any product, any channel).
select external_id
from {{ source('purchases') }}
where purchased_at <= cast('{{ as_of }}' as timestamp)  -- only what was seen at as_of
group by external_id
having count(distinct cast(purchased_at as date)) >= 3
