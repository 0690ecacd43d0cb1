-- Revenue per month and region: the seasonality the generator put in.
{{ config(materialized='view') }}
SELECT
    date_trunc('month', s.sale_date) AS month,
    st.region,
    sum(s.revenue) AS revenue,
    count(*) AS sale_lines
FROM {{ ref('stg_sales') }} AS s
JOIN {{ ref('stg_stores') }} AS st USING (store_id)
GROUP BY ALL
