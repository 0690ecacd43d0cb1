-- Revenue, margin and traffic per store, and revenue per square metre.
SELECT
    st.store_id,
    st.store_name,
    st.region,
    st.region_manager,
    st.size_sqm,
    count(*) AS sale_lines,
    count(DISTINCT s.customer_id) AS customers,
    sum(s.revenue) AS revenue,
    sum(s.margin) AS margin,
    round(sum(s.revenue) / st.size_sqm, 2) AS revenue_per_sqm,
    round(100.0 * count(*) FILTER (WHERE s.is_return) / count(*), 2) AS return_rate_pct
FROM {{ ref('stg_sales') }} AS s
JOIN {{ ref('stg_stores') }} AS st USING (store_id)
GROUP BY st.store_id, st.store_name, st.region, st.region_manager, st.size_sqm
