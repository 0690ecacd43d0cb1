-- SCD2 history of the cleaned customers: a new version whenever a
-- customer moves or changes segment (`tarn snapshot`).
{{ config(unique_key='customer_id', strategy='check', check_cols=['city', 'segment'],
          hard_deletes='invalidate', target_schema='snapshots') }}
SELECT customer_id, city, segment FROM {{ ref('stg_customers') }}
