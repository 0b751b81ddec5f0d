-- Per customer: the industry of its account (seed industries, on lower(trim(text))) and
-- the job function and seniority of its CRM contact's job title (seed
-- job_title_patterns); `unknown` when there is no account, contact, text or match.
-- A pattern is a lowercase word or phrase matched as whole words: the title is
-- lower-cased, every run of characters outside a-z and 0-9 becomes one space, and both
-- sides get a space, so `cto` never matches inside `director`. Function and seniority
-- are each the first pattern by priority (then pattern) that gives one.
with located as (
    select * from {{ ref('int_customers_located') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

accounts as (
    select * from {{ ref('stg_crm__accounts') }}
),

industries as (
    select * from {{ ref('industries') }}
),

job_title_patterns as (
    select * from {{ ref('job_title_patterns') }}
),

titled as (
    select
        located.customer_id,
        ' '
        || {{ audience.regexp_replace_all('lower(trim(contacts.job_title))', '[^a-z0-9]+', ' ') }}
        || ' ' as normalised_title
    from located
    inner join contacts
        on located.contact_id = contacts.contact_id
    where contacts.job_title is not null
),

matched as (
    select
        titled.customer_id,
        job_title_patterns.job_function,
        job_title_patterns.seniority,
        job_title_patterns.priority,
        job_title_patterns.pattern
    from titled
    inner join job_title_patterns
        on
            {{ dbt.position(
                "' ' || job_title_patterns.pattern || ' '", 'titled.normalised_title'
            ) }} > 0
),

functions as (
    select
        customer_id,
        job_function,
        row_number() over (
            partition by customer_id
            order by priority asc, pattern asc
        ) as match_rank
    from matched
    where job_function is not null
),

seniorities as (
    select
        customer_id,
        seniority,
        row_number() over (
            partition by customer_id
            order by priority asc, pattern asc
        ) as match_rank
    from matched
    where seniority is not null
),

final as (
    select
        located.customer_id,
        located.account_id,
        located.contact_id,
        coalesce(industries.industry, 'unknown') as industry,
        coalesce(functions.job_function, 'unknown') as job_function,
        coalesce(seniorities.seniority, 'unknown') as seniority,
        located.employee_count
    from located
    left join accounts
        on located.account_id = accounts.account_id
    left join industries
        on lower(trim(accounts.industry)) = industries.industry_alias
    left join functions
        on
            located.customer_id = functions.customer_id
            and functions.match_rank = 1
    left join seniorities
        on
            located.customer_id = seniorities.customer_id
            and seniorities.match_rank = 1
)

select * from final
