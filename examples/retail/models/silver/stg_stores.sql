-- The current version of each store, joined to its region manager (seed).
SELECT
    s.store_id,
    s.store_name,
    s.city,
    s.region,
    r.region_manager,
    s.size_sqm,
    s.opened_on
FROM {{ source('bronze', 'stores') }} AS s
LEFT JOIN {{ ref('regions') }} AS r USING (region)
WHERE s.valid_to IS NULL
