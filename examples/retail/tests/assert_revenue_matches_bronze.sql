-- Singular test: the silver sales keep every bronze sale line since the
-- start date (returns included), so the counts must agree. Returns the
-- failing row when they do not.
SELECT b.n AS bronze_lines, s.n AS silver_lines
FROM (SELECT count(*) AS n FROM {{ source('bronze', 'sales') }}
      WHERE sold_at >= DATE '{{ var('since', '2023-01-01') }}') AS b,
     (SELECT count(*) AS n FROM {{ ref('stg_sales') }}) AS s
WHERE b.n <> s.n
