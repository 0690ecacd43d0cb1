-- The current version of each customer, cleaned: emails trimmed and lower
-- case (NULL stays NULL), cities trimmed and capitalised.
{{ config(materialized='table') }}
SELECT
    customer_id,
    first_name,
    last_name,
    NULLIF(lower(trim(email)), '') AS email,
    upper(substr(trim(city), 1, 1)) || lower(substr(trim(city), 2)) AS city,
    segment,
    valid_from AS customer_since_version,
    updated_at
FROM {{ source('bronze', 'customers') }}
WHERE valid_to IS NULL
