-- Units, revenue, margin and rank per product, with its share of its
-- category's revenue.
WITH per_product AS (
    SELECT
        product_id,
        sum(quantity) AS units,
        sum(revenue) AS revenue,
        sum(margin) AS margin
    FROM {{ ref('stg_sales') }}
    GROUP BY product_id
)
SELECT
    p.product_id,
    p.product_name,
    p.category,
    p.brand,
    coalesce(pp.units, 0) AS units,
    coalesce(pp.revenue, 0) AS revenue,
    coalesce(pp.margin, 0) AS margin,
    rank() OVER (ORDER BY coalesce(pp.revenue, 0) DESC) AS revenue_rank,
    round(100.0 * coalesce(pp.revenue, 0) / sum(coalesce(pp.revenue, 0)) OVER (PARTITION BY p.category), 2)
        AS category_share_pct
FROM {{ ref('stg_products') }} AS p
LEFT JOIN per_product AS pp USING (product_id)
