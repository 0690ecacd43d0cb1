-- Lifetime value per known customer: revenue, orders, first and last
-- purchase, and a value tier.
WITH per_customer AS (
    SELECT
        customer_id,
        count(*) FILTER (WHERE NOT is_return) AS purchases,
        sum(revenue) AS revenue,
        sum(margin) AS margin,
        min(sale_date) AS first_purchase,
        max(sale_date) AS last_purchase
    FROM {{ ref('stg_sales') }}
    WHERE customer_id IS NOT NULL
    GROUP BY customer_id
)
SELECT
    c.customer_id,
    c.first_name || ' ' || c.last_name AS customer_name,
    c.city,
    c.segment,
    coalesce(p.purchases, 0) AS purchases,
    coalesce(p.revenue, 0) AS lifetime_revenue,
    coalesce(p.margin, 0) AS lifetime_margin,
    p.first_purchase,
    p.last_purchase,
    CASE
        WHEN coalesce(p.revenue, 0) >= 3000 THEN 'high'
        WHEN coalesce(p.revenue, 0) >= 1500 THEN 'medium'
        ELSE 'low'
    END AS value_tier
FROM {{ ref('stg_customers') }} AS c
LEFT JOIN per_customer AS p USING (customer_id)
