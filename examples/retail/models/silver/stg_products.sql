SELECT
    product_id,
    product_name,
    category,
    brand,
    CAST(list_price AS DECIMAL(10, 2)) AS list_price,
    CAST(unit_cost AS DECIMAL(10, 2)) AS unit_cost
FROM {{ source('bronze', 'products') }}
