-- KR/JP VIPs whose purchases add up to at least 300.
select v.external_user_id
from {{ ref('kr_jp_vips') }} as v
join {{ source('purchases') }} as p on p.external_id = v.external_user_id
where p.purchased_at <= cast('{{ as_of }}' as timestamp)
group by v.external_user_id
having sum(p.price * p.quantity) >= 300
