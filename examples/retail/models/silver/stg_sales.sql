-- Typed sale lines with their revenue and margin; returns (negative
-- quantities) are flagged, not dropped, so revenue nets them out.
{{ config(materialized='incremental', unique_key='sale_id') }}
SELECT
    s.sale_id,
    s.sold_at,
    CAST(s.sold_at AS DATE) AS sale_date,
    s.store_id,
    s.customer_id,
    s.product_id,
    s.quantity,
    s.quantity < 0 AS is_return,
    s.unit_price,
    s.discount,
    CAST(s.quantity * s.unit_price * (1 - s.discount) AS DECIMAL(12, 2)) AS revenue,
    CAST(s.quantity * (s.unit_price * (1 - s.discount) - p.unit_cost) AS DECIMAL(12, 2)) AS margin
FROM {{ source('bronze', 'sales') }} AS s
JOIN {{ source('bronze', 'products') }} AS p USING (product_id)
WHERE s.sold_at >= DATE '{{ var('since', '2023-01-01') }}'
{% if is_incremental() %}
  AND s.sale_id > (SELECT coalesce(max(sale_id), 0) FROM {{ this }})
{% endif %}
