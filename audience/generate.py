"""Synthetic raw data for the ten tables of SPEC section 1, written with DuckDB SQL.

Everything is vectorised: rows come from ``range()`` and every random draw is a hash of
(row key, a salt, the seed), so the output depends only on the seed, the profile and
the as-of date, never on thread scheduling. Business timestamps fall in the three years
before the as-of date; ``_loaded_at`` follows them by minutes to hours, and the last
sync lands shortly before the as-of date so that a fresh build passes source freshness.

The mess is deliberate: mixed case and padded emails and codes, free-text countries,
entity versions, re-deliveries, orphans and a few percent of every reject reason of
SPEC section 2.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # duckdb is imported where it is used: `python -m audience --help` must not load it.
    import duckdb

from audience.raw_schema import RAW_TABLES, Location, column_list, create_raw_tables, raw_locations

PROFILES: dict[str, int] = {"S": 1_000, "demo": 10_000, "M": 100_000, "L": 1_000_000}
HORIZON_DAYS = 1095
# DuckDB's memory limit for a generation: profile L (1 M customers) stays within it.
MEMORY_LIMIT = "2GB"

Progress = Callable[[str, int], None]

# --- Distributions shared by the history (generate) and the appended day (generate_next_day).

# Lifetime orders of a buyer: 55 % one, 28 % two or three, 13 % four to ten, 4 % eleven
# or more with a geometric tail (mean 10 more) capped at ORDER_COUNT_CAP; drawn mean 3.0.
# Orders that would fall after the as-of date are not placed yet, so recent sign-ups have
# few, and a buyer has about 2.3 orders landed by the as-of date.
ORDER_COUNT_CAP = 60
# A buyer's first order comes within FIRST_ORDER_WITHIN_DAYS of the sign-up; the others
# are spread uniformly until the person's churn day.
FIRST_ORDER_WITHIN_DAYS = 30
# The shop's currency rates to USD: the same as seeds/currency_rates.csv (a test checks).
# An amount is drawn USD-sized and converted into the order's currency, rounded as that
# currency is (CURRENCY_DECIMALS, default 2).
CURRENCY_RATES: dict[str, float] = {
    "USD": 1.0,
    "EUR": 1.157,
    "GBP": 1.318,
    "CAD": 0.716,
    "AUD": 0.652,
    "BRL": 0.182,
    "MXN": 0.0542,
    "JPY": 0.00645,
    "INR": 0.0113,
    "SGD": 0.769,
    "ZAR": 0.0573,
}
CURRENCY_DECIMALS: dict[str, int] = {"JPY": 0}
# Share of list members who keep receiving sends after they are suppressed (unsubscribe,
# complaint or hard bounce): the compliance monitor (fct_campaign_compliance) has
# something to find. Everybody else gets no send after suppression.
SUPPRESSION_LEAK_SHARE = 0.03


def _order_count(key: str) -> str:
    """SQL: a buyer's lifetime number of orders (see ORDER_COUNT_CAP)."""
    u, tail = f"rnd({key}, 'n_orders')", f"rnd({key}, 'n_o2')"
    return f"""case
                when {u} < 0.55 then 1
                when {u} < 0.83 then 2 + floor({tail} * 2)
                when {u} < 0.96 then 4 + floor({tail} * 7)
                else least({ORDER_COUNT_CAP}, 11 + floor(-ln(greatest({tail}, 1e-12)) * 10))
            end::integer"""


def _buyers(where: str) -> str:
    """SQL: the buyers among ``persons`` matching ``where``, with their lifetime order count,
    first order day and currency; orders fall in [first_order_day, churn_day)."""
    return f"""
        select
            p.*,
            {_order_count("p.i")} as n_orders,
            p.signup_day + rnd(p.i, 'first_order') * {FIRST_ORDER_WITHIN_DAYS} as first_order_day,
            {_currency("p.country_code")} as currency
        from persons as p
        where p.is_buyer and ({where})"""


def _leaks(key: str) -> str:
    """SQL: whether a list member keeps receiving sends once suppressed."""
    return f"rnd({key}, 'suppression_leak') < {SUPPRESSION_LEAK_SHARE}"


def _usd_sized(key: str, salt: str, person: str | None = None) -> str:
    """SQL: an amount in USD, log-normal (median about 49, mean about 66). With ``person``,
    part of the spread is the person's own spending level (log-sd 0.5 between people,
    0.55 between one person's orders), so customers differ in typical order value as
    they do in a shop (the Gamma-Gamma model of SPEC section 11 measures exactly that)."""
    if person is None:
        return f"exp(3.9 + 0.75 * std_normal({key}, '{salt}'))"
    return f"exp(3.9 + 0.5 * std_normal({person}, 'spend_level') + 0.55 * std_normal({key}, '{salt}'))"


# CRM tags as people type them (SQL list).
TAGS = (
    "['Trade Show', 'trade-show', 'VIP', ' vip ', 'Webinar 2026', 'Newsletter Signup', "
    "'Partner', 'Beta Tester!', '--Event--', 'Referral', 'high value']"
)


@dataclass(frozen=True)
class Settings:
    """What one generation depends on."""

    customers: int
    as_of_date: dt.date
    seed: int
    #: Where each raw table goes (audience.raw_schema.raw_locations); schema raw by default.
    raw: dict[str, Location] = field(default_factory=raw_locations)

    def relation(self, table: str) -> str:
        """The raw table's qualified name."""
        return self.raw[table].relation(table)

    @property
    def start(self) -> str:
        """SQL timestamp literal of the first day of the horizon."""
        first = self.as_of_date - dt.timedelta(days=HORIZON_DAYS)
        return f"timestamp '{first.isoformat()} 00:00:00'"

    @property
    def sync_end(self) -> str:
        """SQL timestamp literal of the last EL sync: the as-of date, 00:00."""
        return f"timestamp '{self.as_of_date.isoformat()} 00:00:00'"


def _macros(s: Settings) -> list[str]:
    """Session macros: seeded uniform draws and the small helpers built on them."""
    return [
        # Uniform in [0, 1) from a row key and a salt.
        f"create or replace temp macro rnd(k, salt) as hash(k, salt, {s.seed}) / 18446744073709551616.0",
        # Standard normal (Box-Muller) from two draws.
        "create or replace temp macro std_normal(k, salt) as "
        "sqrt(-2 * ln(greatest(rnd(k, salt || 'a'), 1e-12))) * cos(2 * pi() * rnd(k, salt || 'b'))",
        "create or replace temp macro pick(options, u) as options[1 + floor(u * len(options))::integer]",
        # Case and padding noise as an EL tool lands free text.
        "create or replace temp macro messy(value, u) as case "
        "when u < 0.06 then upper(value) when u < 0.12 then '  ' || value || ' ' "
        "when u < 0.15 then upper(substr(value, 1, 1)) || substr(value, 2) else value end",
        f"create or replace temp macro day_ts(day_offset, k, salt) as {s.start} "
        "+ to_days(floor(day_offset)::integer) + to_seconds(floor(rnd(k, salt) * 86400)::bigint)",
        # A landing delay: minutes to hours, with a long tail.
        "create or replace temp macro load_delay(k, salt) as "
        "to_seconds((300 + floor(-ln(greatest(rnd(k, salt), 1e-12)) * 5400))::bigint)",
        # When a row lands: after its timestamp by a landing delay, and before the sync that
        # ends at ``sync_end`` (a minute before it at the latest). A delay that would pass it
        # is shrunk into the time left, so the last minutes hold no pile of equal times.
        "create or replace temp macro landed_at(ts, k, salt, sync_end) as case "
        "when ts + load_delay(k, salt) < sync_end - interval 1 minute then ts + load_delay(k, salt) "
        "when ts < sync_end - interval 1 minute then ts + (sync_end - interval 1 minute - ts) * rnd(k, salt || 'c') "
        "else sync_end - interval 1 minute end",
        # Money in a currency: rounded as the currency is (JPY to units, others to cents).
        "create or replace temp macro money(amount, currency) as case "
        + "".join(
            f"when currency = '{code}' then round(amount, {places}) " for code, places in CURRENCY_DECIMALS.items()
        )
        + "else round(amount, 2) end",
        "create or replace temp macro usd_rate(currency) as case currency "
        + "".join(f"when '{code}' then {rate} " for code, rate in CURRENCY_RATES.items())
        + "end",
        # A USD-sized amount converted into the currency.
        "create or replace temp macro local_amount(usd, currency) as money(usd / usd_rate(currency), currency)",
    ]


def _persons(s: Settings) -> str:
    """One row per synthetic person: who they are and where they appear."""
    return f"create or replace temp table persons as {_person_rows(0, s.customers)}"


def _person_rows(first: int, count: int) -> str:
    """A query of the persons numbered ``first`` to ``first + count - 1``."""
    return f"""
    with base as (
        select
            i,
            rnd(i, 'country') as u_country,
            {HORIZON_DAYS} * sqrt(rnd(i, 'signup')) as signup_day,
            rnd(i, 'engagement') * rnd(i, 'engagement2') as engagement
        from range({first}, {first + count}) as t(i)
    )
    select
        i,
        lower(pick(['anna','ben','carla','david','emma','felix','grace','hugo','ines','jonas',
            'kate','liam','maria','noah','olivia','paul','quinn','rosa','sam','tina','uma',
            'victor','wendy','yusuf','zoe'], rnd(i, 'first'))) as first_name,
        lower(pick(['smith','muller','garcia','rossi','dubois','jansen','silva','kim','tanaka',
            'brown','novak','cohen','singh','nguyen','lopez','khan','berg','walsh','fischer',
            'moreau'], rnd(i, 'last'))) as last_name,
        pick(['gmail.com','yahoo.com','outlook.com','example.org','acme.io','mail.de',
            'orange.fr','icloud.com'], rnd(i, 'domain')) as domain,
        case
            when u_country < 0.38 then 'US' when u_country < 0.50 then 'GB'
            when u_country < 0.58 then 'DE' when u_country < 0.64 then 'FR'
            when u_country < 0.70 then 'CA' when u_country < 0.75 then 'AU'
            when u_country < 0.78 then 'NL' when u_country < 0.81 then 'ES'
            when u_country < 0.84 then 'IT' when u_country < 0.87 then 'BR'
            when u_country < 0.89 then 'MX' when u_country < 0.91 then 'JP'
            when u_country < 0.93 then 'IN' when u_country < 0.95 then 'SG'
            when u_country < 0.965 then 'ZA' when u_country < 0.98 then 'AE'
            else 'XX'
        end as country_code,
        signup_day,
        signup_day + 60 - ln(greatest(rnd(i, 'lifetime'), 1e-12)) * 420 as churn_day,
        engagement,
        rnd(i, 'crm') < 0.45 as in_crm,
        rnd(i, 'shop') < 0.62 as in_shop,
        rnd(i, 'list') < 0.70 as on_list,
        rnd(i, 'buyer') < 0.70 as is_buyer
    from base
    """


def _country_text() -> str:
    """Macro: a free-text spelling of a country code, as people type it."""
    return """
    create or replace temp macro country_text(code, u) as case
        when code = 'XX' then pick(['Atlantis', 'n/a', '', 'Earth', null], u)
        when u < 0.02 then null
        when code = 'US' then pick(['United States', 'USA', 'us', ' U.S.A. ', 'united states of america', 'US'], u)
        when code = 'GB' then pick(['United Kingdom', 'UK', 'gb', 'Great Britain', 'England', 'GB'], u)
        when code = 'DE' then pick(['Germany', 'Deutschland', 'DE', ' germany'], u)
        when code = 'FR' then pick(['France', 'FR', 'france '], u)
        when code = 'NL' then pick(['Netherlands', 'Holland', 'NL'], u)
        when code = 'ES' then pick(['Spain', 'España', 'ES'], u)
        when code = 'IT' then pick(['Italy', 'Italia', 'IT'], u)
        when code = 'BR' then pick(['Brazil', 'Brasil', 'BR'], u)
        when code = 'AE' then pick(['United Arab Emirates', 'UAE', 'ae'], u)
        else pick([code, lower(code)], u)
    end
    """


def _currency(country_code: str) -> str:
    """The currency a shop charges in a country."""
    return f"""case {country_code}
                when 'US' then 'USD' when 'GB' then 'GBP' when 'CA' then 'CAD' when 'AU' then 'AUD'
                when 'BR' then 'BRL' when 'MX' then 'MXN' when 'JP' then 'JPY' when 'IN' then 'INR'
                when 'SG' then 'SGD' when 'ZA' then 'ZAR' when 'AE' then 'USD' when 'XX' then 'USD'
                else 'EUR'
            end"""


def _account_of(key: str, accounts: int) -> str:
    """The CRM account of a contact: 40 % are B2B, a few of them with an unknown account."""
    return f"""case
                when rnd({key}, 'con_b2b') < 0.40 then
                    case
                        when rnd({key}, 'con_acc_missing') < 0.03 then 'ACC-MISSING-' || ({key} % 97)
                        else 'ACC-' || lpad(floor(rnd({key}, 'con_acc') * {accounts})::integer::varchar, 7, '0')
                    end
            end"""


def _email_expr(alias: str = "p") -> str:
    """A person's canonical email."""
    return f"{alias}.first_name || '.' || {alias}.last_name || {alias}.i || '@' || {alias}.domain"


def _landed_email(key: str, salt: str, invalid_share: float, null_share: float, alias: str = "p") -> str:
    """The person's email as a source lands it: case noise, padding, some invalid or null."""
    u = f"rnd({key}, '{salt}')"
    a = alias
    return f"""case
        when {u} < {null_share} then null
        when {u} < {null_share + invalid_share} then
            pick([{a}.first_name || ' ' || {a}.last_name, {a}.first_name || '@' || {a}.domain,
                  {a}.first_name || '.' || {a}.last_name || {a}.i || '@@' || {a}.domain,
                  'n/a', ''], rnd({key}, '{salt}x'))
        else messy({_email_expr(a)}, rnd({key}, '{salt}m'))
    end"""


def _account_count(customers: int) -> int:
    """How many CRM accounts a profile has."""
    return max(20, customers // 40)


def _crm(s: Settings) -> list[tuple[str, str]]:
    accounts = _account_count(s.customers)
    return [
        (
            "crm_accounts",
            f"""
    create or replace temp table g_crm_accounts as
    with accounts as (
        select
            a,
            'ACC-' || lpad(a::varchar, 7, '0') as account_id,
            {HORIZON_DAYS + 400} * rnd(a, 'acc_created') - 400 as created_day,
            rnd(a, 'acc_size') as u_size
        from range({accounts}) as t(a)
    ),
    versions as (
        select
            accounts.*,
            v,
            case when rnd(a, 'acc_versions') < 0.12 then 2 else 1 end as version_count
        from accounts, range(2) as r(v)
    ),
    rows as (
        select
            case when rnd(a, 'acc_nullkey') < 0.02 and v = 0 then null else account_id end
                as account_id,
            pick(['Acme', 'Globex', 'Initech', 'Umbrella', 'Stark', 'Wayne', 'Hooli', 'Vandelay',
                  'Soylent', 'Tyrell'], rnd(a, 'acc_name')) || ' ' ||
            pick(['Ltd', 'GmbH', 'Inc.', 'SA', 'BV', 'Group'], rnd(a, 'acc_suffix')) || ' ' || a
                as account_name,
            messy(pick(['Software', 'Retail', 'Manufacturing', 'Finance', 'Healthcare',
                        'Education', 'Media'], rnd(a, 'acc_industry')), rnd(a, 'acc_ind_m'))
                as industry,
            case
                when rnd(a, 'acc_emp_null') < 0.03 then null
                when rnd(a, 'acc_emp_bad') < 0.01 then pick([0, -1, -50], rnd(a, 'acc_emp_v'))
                else greatest(1, floor(exp(3.2 + 2.1 * std_normal(a, 'acc_emp'))))::integer
            end as employee_count,
            country_text(pick(['US', 'US', 'US', 'GB', 'DE', 'FR', 'CA', 'AU', 'NL', 'JP', 'XX'],
                u_size), rnd(a, 'acc_country' || v)) as country,
            {s.start} + to_days(floor(created_day)::integer) as created_at,
            case
                when v = 0 and version_count = 2 and rnd(a, 'acc_upd_null') < 0.2 then null
                else {s.start} + to_days(floor(greatest(created_day, 0)
                    + ({HORIZON_DAYS} - greatest(created_day, 0))
                    * (v + rnd(a, 'acc_upd' || v)) / version_count)::integer)
            end as updated_at,
            a * 3 + v as k
        from versions
        where v < version_count
    )
    select
        account_id, account_name, industry, employee_count, country, created_at,
        landed_at(coalesce(updated_at, created_at), k, 'acc_load', {s.sync_end}) as updated_at_load,
        updated_at,
        k
    from rows
    """,
        ),
        (
            "crm_contacts",
            f"""
    create or replace temp table g_crm_contacts as
    with contacts as (
        select
            p.*,
            'CON-' || lpad(p.i::varchar, 8, '0') as contact_id,
            {_account_of("p.i", accounts)} as account_id,
            case when rnd(p.i, 'con_versions') < 0.12 then 2 else 1 end as version_count
        from persons as p
        where p.in_crm
    ),
    rows as (
        select
            case when rnd(p.i, 'con_nullkey') < 0.004 then null else p.contact_id end as contact_id,
            p.account_id,
            {_landed_email("p.i * 3 + v", "con_email", 0.02, 0.005)} as email,
            messy(p.first_name, rnd(p.i, 'con_fn')) as first_name,
            messy(p.last_name, rnd(p.i, 'con_ln')) as last_name,
            case when p.account_id is not null then pick(['CEO', 'Head of Marketing', 'Buyer',
                'Engineer', 'Analyst', 'Office Manager', null], rnd(p.i * 3 + v, 'con_title')) end
                as job_title,
            country_text(p.country_code, rnd(p.i * 3 + v, 'con_country')) as country,
            case when rnd(p.i, 'con_deleted') < 0.03 and v = p.version_count - 1 then true
                 when rnd(p.i, 'con_del_null') < 0.05 then null else false end as is_deleted,
            day_ts(p.signup_day * 0.9, p.i, 'con_created') as created_at,
            case
                when v = 0 and p.version_count = 2 and rnd(p.i, 'con_upd_null') < 0.15 then null
                else day_ts(p.signup_day * 0.9 + ({HORIZON_DAYS} - p.signup_day * 0.9)
                    * (v + rnd(p.i * 3 + v, 'con_upd')) / p.version_count, p.i * 3 + v, 'con_upd_s')
            end as updated_at,
            p.i * 3 + v as k
        from contacts as p, range(2) as r(v)
        where v < p.version_count
    )
    select
        *,
        landed_at(coalesce(updated_at, created_at), k, 'con_load', {s.sync_end}) as updated_at_load
    from rows
    """,
        ),
        (
            "crm_contact_tags",
            f"""
    create or replace temp table g_crm_contact_tags as
    with tagged as (
        select
            p.i,
            'CON-' || lpad(p.i::varchar, 8, '0') as contact_id,
            p.signup_day,
            t.n
        from persons as p, range(3) as t(n)
        where p.in_crm and rnd(p.i, 'tag_count') * 3 < 3 - t.n - 1.2
    )
    select
        case when rnd(i * 5 + n, 'tag_orphan') < 0.005 then 'CON-UNKNOWN-' || i else contact_id end
            as contact_id,
        case when rnd(i * 5 + n, 'tag_null') < 0.003 then null
             else pick({TAGS}, rnd(i * 5 + n, 'tag_value')) end as tag,
        case when rnd(i * 5 + n, 'tag_ts_null') < 0.004 then null
             else day_ts(signup_day + ({HORIZON_DAYS} - signup_day) * rnd(i * 5 + n, 'tag_day'),
                         i * 5 + n, 'tag_s') end as tagged_at,
        i * 5 + n as k
    from tagged
    """,
        ),
    ]


def _email(s: Settings) -> list[tuple[str, str]]:
    campaign_every_days = 2.5
    campaigns = int(HORIZON_DAYS / campaign_every_days)
    return [
        (
            "email_campaigns",
            f"""
    create or replace temp table g_email_campaigns as
    select
        c,
        case when rnd(c, 'cmp_nullkey') < 0.02 then null else 'CMP-' || lpad(c::varchar, 5, '0') end
            as campaign_id,
        pick(['Spring', 'Summer', 'Autumn', 'Winter', 'Weekly', 'Flash', 'VIP', 'Welcome'],
             rnd(c, 'cmp_name')) || ' ' || pick(['Sale', 'News', 'Picks', 'Update', 'Offer'],
             rnd(c, 'cmp_name2')) || ' #' || c as campaign_name,
        messy(case when rnd(c, 'cmp_type') < 0.45 then 'newsletter'
                   when rnd(c, 'cmp_type') < 0.75 then 'promotion'
                   when rnd(c, 'cmp_type') < 0.88 then 'winback' else 'onboarding' end,
              rnd(c, 'cmp_type_m')) as campaign_type,
        {s.start} + to_seconds(floor((c + 0.5) * {campaign_every_days} * 86400)::bigint) as sent_at,
        (c + 0.5) * {campaign_every_days} as sent_day,
        c as k
    from range({campaigns}) as t(c)
    """,
        ),
        (
            "email_events",
            f"""
    create or replace temp table g_email_events as
    with subscribers as (
        select
            p.*,
            {_email_expr()} as canonical_email,
            case when rnd(p.i, 'unsub') < 0.10
                 then p.signup_day + ({HORIZON_DAYS} - p.signup_day) * rnd(p.i, 'unsub_day') end
                as unsub_day,
            0.15 + 0.5 * rnd(p.i, 'send_share') as send_share,
            {_leaks("p.i")} as leaks
        from persons as p
        where p.on_list
    ),
    windows as (
        select
            *,
            ceil(signup_day / {campaign_every_days})::integer as first_campaign,
            floor((case when leaks then {HORIZON_DAYS} else coalesce(unsub_day, {HORIZON_DAYS}) end
                - {campaign_every_days} / 2) / {campaign_every_days})::integer as last_campaign
        from subscribers
    ),
    sends as (
        select
            w.i,
            w.canonical_email,
            w.engagement,
            w.churn_day,
            w.leaks,
            w.first_campaign + floor(k / w.send_share)::integer as c,
            k
        from windows as w,
            range(greatest(0, floor((w.last_campaign - w.first_campaign + 1) * w.send_share))::integer) as r(k)
    ),
    drawn as (
        select
            sends.*,
            (c + 0.5) * {campaign_every_days} as send_day,
            0.04 + 0.55 * engagement * exp(-greatest(0, (c + 0.5) * {campaign_every_days} - churn_day) / 120)
                as p_open,
            (rnd(i * 100000 + k, 'bounce') < 0.004 and rnd(i * 100000 + k, 'bounce_t') < 0.4)
                or rnd(i * 100000 + k, 'complaint') < 0.0004 as suppresses
        from sends
        where c <= {campaigns - 1}
    ),
    -- No send after a hard bounce or a complaint (an unsubscribe ends the window above),
    -- except to the few who leak.
    send_rows as (
        select *
        from drawn
        qualify leaks or c <= coalesce(min(case when suppresses then c end) over (partition by i), c)
    ),
    events as (
        select i, canonical_email, c, 'send' as event_type, null as bounce_type,
               send_day * 86400 + 60 as second_of_horizon, k * 8 + 0 as seq
        from send_rows
        union all
        select i, canonical_email, c, 'open', null,
               send_day * 86400 + 600 + floor(rnd(i * 100000 + k, 'open_t') * 172800), k * 8 + 1
        from send_rows
        where rnd(i * 100000 + k, 'open') < p_open
        union all
        select i, canonical_email, c, 'click', null,
               send_day * 86400 + 800 + floor(rnd(i * 100000 + k, 'open_t') * 172800), k * 8 + 2
        from send_rows
        where rnd(i * 100000 + k, 'open') < p_open and rnd(i * 100000 + k, 'click') < 0.25
        union all
        select i, canonical_email, c, 'bounce',
               case when rnd(i * 100000 + k, 'bounce_t') < 0.4 then 'hard' else 'soft' end,
               send_day * 86400 + 120, k * 8 + 3
        from send_rows
        where rnd(i * 100000 + k, 'bounce') < 0.004
        union all
        select i, canonical_email, c, 'complaint', null, send_day * 86400 + 3600, k * 8 + 4
        from send_rows
        where rnd(i * 100000 + k, 'complaint') < 0.0004
        union all
        select i, canonical_email, null, 'subscribe', null, signup_day * 86400, -1
        from windows
        union all
        select i, canonical_email, null, 'unsubscribe', null, unsub_day * 86400, -2
        from windows
        where unsub_day is not null
        union all
        select i, canonical_email, null, 'subscribe', null,
               (unsub_day + ({HORIZON_DAYS} - unsub_day) * rnd(i, 'resub_day')) * 86400, -3
        from windows
        where unsub_day is not null and rnd(i, 'resub') < 0.2
    )
    select
        e.i * 1000000 + e.seq + 10 as k,
        case when rnd(e.i * 1000000 + e.seq, 'evt_nullkey') < 0.003 then null
             else 'E' || (e.i * 1000000 + e.seq + 10) end as event_id,
        case when e.c is null then null
             when rnd(e.i * 1000000 + e.seq, 'evt_orphan') < 0.003 then 'CMP-GONE-' || e.c
             else 'CMP-' || lpad(e.c::varchar, 5, '0') end as campaign_id,
        case when rnd(e.i * 1000000 + e.seq, 'evt_bad_email') < 0.008
             then pick(['n/a', e.canonical_email || '@', replace(e.canonical_email, '@', ' at ')],
                       rnd(e.i * 1000000 + e.seq, 'evt_bad_email_v'))
             else messy(e.canonical_email, rnd(e.i * 1000000 + e.seq, 'evt_email_m')) end as email,
        case when rnd(e.i * 1000000 + e.seq, 'evt_type_bad') < 0.006
             then pick(['delivered', 'SPAM', 'deferred', null], rnd(e.i * 1000000 + e.seq, 'evt_type_v'))
             else messy(e.event_type, rnd(e.i * 1000000 + e.seq, 'evt_type_m')) end as event_type,
        case when e.bounce_type is not null then messy(e.bounce_type, rnd(e.i * 1000000 + e.seq, 'bt')) end
            as bounce_type,
        case when rnd(e.i * 1000000 + e.seq, 'evt_ts_null') < 0.003 then null
             else least({s.start} + to_seconds(floor(e.second_of_horizon)::bigint),
                        {s.sync_end} - interval 2 hour) end as occurred_at
    from events as e
    """,
        ),
    ]


def _shop(s: Settings) -> list[tuple[str, str]]:
    return [
        (
            "shop_customers",
            f"""
    create or replace temp table g_shop_customers as
    with customers as (
        select
            p.*,
            case when rnd(p.i, 'shc_versions') < 0.10 then 2 else 1 end as version_count
        from persons as p
        where p.in_shop
    )
    select
        case when rnd(p.i, 'shc_nullkey') < 0.003 then null else 'C' || p.i end as customer_id,
        {_landed_email("p.i * 3 + v", "shc_email", 0.015, 0.01)} as email,
        messy(p.first_name, rnd(p.i, 'shc_fn')) as first_name,
        messy(p.last_name, rnd(p.i, 'shc_ln')) as last_name,
        country_text(p.country_code, rnd(p.i * 3 + v, 'shc_country')) as country,
        day_ts(p.signup_day, p.i, 'shc_created') as created_at,
        case when v = 0 and p.version_count = 2 and rnd(p.i, 'shc_upd_null') < 0.15 then null
             else day_ts(p.signup_day + ({HORIZON_DAYS} - p.signup_day)
                 * (v + rnd(p.i * 3 + v, 'shc_upd')) / p.version_count, p.i * 3 + v, 'shc_upd_s')
        end as updated_at,
        p.i * 3 + v as k
    from customers as p, range(2) as r(v)
    where v < p.version_count
    """,
        ),
        (
            "shop_orders",
            f"""
    create or replace temp table g_orders_base as
    with buyers as ({_buyers("true")}
    ),
    placed as (
        select
            b.*,
            o,
            b.i * 1000 + o as k,
            b.first_order_day + case when o = 0 then 0
                else (b.churn_day - b.first_order_day) * rnd(b.i * 1000 + o, 'ord_day') end as order_day
        from buyers as b, range(b.n_orders) as r(o)
    )
    select
        b.i,
        b.o,
        b.k,
        'O' || b.i || '-' || b.o as order_id,
        case when b.in_shop and rnd(b.k, 'ord_guest') < 0.88 then 'C' || b.i end as customer_id,
        {_landed_email("b.k", "ord_email", 0.02, 0.07, "b")} as email,
        b.currency,
        b.order_day,
        local_amount({_usd_sized("b.k", "ord_amount", "b.i")}, b.currency) as gross_amount,
        rnd(b.k, 'ord_discount') < 0.30 as has_discount
    from placed as b
    -- Orders after the as-of date are not placed yet (no clamp onto the last day).
    where b.order_day < {HORIZON_DAYS}
    """,
        ),
        ("shop_order_items", ""),
        ("shop_refunds", ""),
        ("shop_checkouts", ""),
    ]


# A campaign that worked (the demo's measurement has something to find): on the day
# PLANTED_CAMPAIGN_DAYS before the as-of date, subscribed people of the segments below who
# are in their treatment group (SPEC section 6: md5(family.segment:customer_id) bucket at or
# above holdout_pct, default 10) and not in global control (bucket of 'global:' at or above
# global_holdout_pct, default 5) buy once more within the next 7 days with the share given;
# everyone else, and every other segment, gets no extra order. The segment is read from the
# person's country, as region is (people whose country text does not map fall into
# region unknown, where the planted orders do not follow the holdout groups).
PLANTED_CAMPAIGN_DAYS = 14
PLANTED_UPLIFT = {
    "europe": (("DE", "GB", "FR", "NL", "ES", "IT"), 0.08),
    "asia_pacific": (("AU", "JP", "IN", "SG"), 0.08),
}
PLANTED_HOLDOUT_PCT = 10
PLANTED_GLOBAL_HOLDOUT_PCT = 5


def _planted_orders() -> str:
    """Insert the planted campaign's extra orders into g_orders_base (one per person at most)."""
    region = (
        "case "
        + " ".join(
            f"when p.country_code in ({', '.join(repr(code) for code in codes)}) then '{name}'"
            for name, (codes, _) in PLANTED_UPLIFT.items()
        )
        + " end"
    )
    share = (
        "case "
        + " ".join(f"when region = '{name}' then {uplift}" for name, (_, uplift) in PLANTED_UPLIFT.items())
        + " end"
    )
    bucket = "(('0x' || substr(md5({text}), 1, 8))::bigint % 100)"
    campaign_day = f"{HORIZON_DAYS} - {PLANTED_CAMPAIGN_DAYS}"
    return f"""
    insert into g_orders_base by name
    with people as (
        select p.*, {region} as region, md5({_email_expr("p")}) as customer_key
        from persons as p
        where p.on_list and p.signup_day < {campaign_day} - 30
    ),
    treated as (
        select *
        from people
        where
            region is not null
            and {bucket.format(text="'region.' || region || ':' || customer_key")} >= {PLANTED_HOLDOUT_PCT}
            and {bucket.format(text="'global:' || customer_key")} >= {PLANTED_GLOBAL_HOLDOUT_PCT}
            and rnd(i, 'planted') < {share}
    )
    select
        i,
        900 as o,
        i * 1000 + 900 as k,
        'O' || i || '-planted' as order_id,
        null as customer_id,
        {_email_expr("treated")} as email,
        {_currency("treated.country_code")} as currency,
        {campaign_day} + 1 + floor(rnd(i, 'planted_day') * 7) + 0.5 as order_day,
        local_amount({_usd_sized("i", "planted_amount", "i")}, {_currency("treated.country_code")}) as gross_amount,
        false as has_discount
    from treated
    """


# An order's discount (30 % of orders: 15 % off), in its currency; the total paid is the
# gross amount less the discount.
DISCOUNT = "case when has_discount then money(gross_amount * 0.15, currency) else 0 end"


def _refund(total: str, currency: str) -> str:
    """SQL: a refund of an order paying ``total``: half are full, the others 20-80 %,
    rounded as the currency is, so a refund never exceeds what was paid."""
    return (
        f"case when rnd(k, 'ref_full') < 0.5 then {total} "
        f"else money({total} * (0.2 + 0.6 * rnd(k, 'ref_part')), {currency}) end"
    )


# History: an order's second version lands about 30 hours after the first.
SECOND_VERSION_AT = "ordered_ts + to_seconds((v * 3600 * 30 + floor(rnd(k * 2 + v, 'ord_upd') * 3600))::bigint)"

ORDERS_RAW = """
create or replace temp table g_shop_orders as
with versions as (
    select
        ob.*,
        v,
        case when rnd(k, 'ord_versions') < 0.10 then 2 else 1 end as version_count,
        day_ts(order_day, k, 'ord_t') as ordered_ts,
        {discount} as discount_amount
    from g_orders_base as ob, range(2) as r(v)
)
select
    case when rnd(k, 'ord_nullkey') < 0.003 then null else order_id end as order_id,
    customer_id,
    email,
    messy(case
        when v < version_count - 1 then 'pending'
        when rnd(k, 'ord_status') < 0.88 then 'completed'
        when rnd(k, 'ord_status') < 0.93 then 'pending'
        else 'cancelled'
    end, rnd(k * 2 + v, 'ord_status_m')) as status,
    case
        when rnd(k, 'ord_cur_bad') < 0.004 then pick(['XXX', 'BTC', null], rnd(k, 'ord_cur_v'))
        else messy(currency, rnd(k, 'ord_cur_m'))
    end as currency,
    case when rnd(k, 'ord_negative') < 0.003 then -1 else 1 end * (gross_amount - discount_amount) as total_amount,
    discount_amount,
    case when rnd(k, 'ord_ts_null') < 0.003 then null else ordered_ts end as ordered_at,
    case when v = 0 and version_count = 2 and rnd(k, 'ord_upd_null') < 0.1 then null
         else {second_version_at}
    end as updated_at,
    k * 2 + v as k,
    rnd(k, 'ord_future') < 0.003 as is_future
from versions
where v < version_count
"""

ITEMS_RAW = """
create or replace temp table g_shop_order_items as
with lines as (
    select ob.*, n
    from g_orders_base as ob, range(4) as r(n)
    where n = 0 or rnd(ob.k * 4 + n, 'itm_more') < 0.45 / greatest(n, 1)
)
select
    case when rnd(k * 4 + n, 'itm_nullkey') < 0.003 then null else order_id || '-' || n end as order_item_id,
    case when rnd(k * 4 + n, 'itm_orphan') < 0.004 then 'O-GONE-' || k else order_id end as order_id,
    'P' || (1 + floor(rnd(k * 4 + n, 'itm_product') * 500)::integer) as product_id,
    case when rnd(k * 4 + n, 'itm_cat_null') < 0.03 then null
         else pick(['apparel', 'shoes', 'home', 'beauty', 'electronics', 'sports', 'books', 'toys'],
                   least(0.9999, rnd(k * 4 + n, 'itm_cat') * rnd(k * 4 + n, 'itm_cat2') * 0.7
                                 + rnd(i, 'itm_pref') * 0.3))
    end as product_category,
    case when rnd(k * 4 + n, 'itm_neg') < 0.003 then -1
         else 1 + floor(-ln(greatest(rnd(k * 4 + n, 'itm_qty'), 1e-12)) * 0.8)::integer end as quantity,
    money(gross_amount / (1 + n) * (0.5 + rnd(k * 4 + n, 'itm_price')), currency) as unit_price,
    day_ts(order_day, k, 'ord_t') as ordered_ts,
    k * 4 + n as k
from lines
"""

REFUNDS_RAW = """
create or replace temp table g_shop_refunds as
select
    case when rnd(k, 'ref_nullkey') < 0.003 then null else 'R' || order_id end as refund_id,
    case when rnd(k, 'ref_orphan') < 0.01 then 'O-UNKNOWN-' || k else order_id end as order_id,
    case when rnd(k, 'ref_neg') < 0.004 then -1 else 1 end
        * {refund} as amount,
    case when rnd(k, 'ref_ts_null') < 0.003 then null
         else day_ts(order_day + 1 + rnd(k, 'ref_day') * 30, k, 'ref_t') end as refunded_at,
    k
from (select *, gross_amount - {discount} as total_amount from g_orders_base)
where rnd(k, 'refund') < 0.05 and order_day + 31 < {horizon}
"""

# Checkouts as they land: a few null keys, negative carts and unknown currencies.
CHECKOUTS_LANDED = """
select
    case when rnd(k, 'chk_nullkey') < 0.003 then null else checkout_id end as checkout_id,
    customer_id,
    email,
    case when rnd(k, 'chk_neg') < 0.003 then -cart_amount else cart_amount end as cart_amount,
    case when rnd(k, 'chk_cur_bad') < 0.004 then 'ZZZ' else messy(currency, rnd(k, 'chk_cur_m')) end
        as currency,
    completed_order_id,
    case when rnd(k, 'chk_ts_null') < 0.003 then null else created_at end as created_at,
    k
from all_checkouts
"""


def _completed_checkouts(key: str) -> str:
    """The checkouts CTE ``completed``: 30 % of the orders of g_orders_base started as a
    checkout ten minutes before the order; ``key`` is their row key."""
    return f"""completed as (
    select
        'K' || order_id as checkout_id,
        customer_id,
        email,
        gross_amount as cart_amount,
        currency,
        order_id as completed_order_id,
        day_ts(order_day, k, 'ord_t') - interval 10 minute as created_at,
        {key} as k
    from g_orders_base
    where rnd(k, 'chk_from_order') < 0.3
)"""


CHECKOUTS_RAW = (
    """
create or replace temp table g_shop_checkouts as
with {completed},
abandoned as (
    select
        'KA' || p.i || '-' || n as checkout_id,
        case when p.in_shop then 'C' || p.i end as customer_id,
        {email} as email,
        local_amount({usd_amount}, {currency}) as cart_amount,
        {currency} as currency,
        null as completed_order_id,
        day_ts(p.signup_day + ({horizon} - p.signup_day) * sqrt(rnd(p.i * 4 + n, 'chk_day')),
               p.i * 4 + n, 'chk_t') as created_at,
        p.i * 4 + n + 7 as k
    from persons as p, range(3) as r(n)
    where rnd(p.i, 'abandoner') < 0.35 and rnd(p.i * 4 + n, 'chk_n') < 0.6 / (n + 1)
),
all_checkouts as (
    select * from completed
    union all
    select * from abandoned
)
"""
    + CHECKOUTS_LANDED
)


def _loaded(table: str, business_ts: str, s: Settings, future_share: float) -> str:
    """Final rows of a table: ``_loaded_at`` after the business timestamp, a few rows landed
    before their own business timestamp (future_timestamp), re-deliveries (2 %, some of them
    exact ties) and, for every table, a handful re-delivered by the last sync so a fresh
    build passes source freshness."""
    columns = column_list(table)
    return f"""
    insert into {s.relation(table)} ({columns})
    with landed as (
        select
            *,
            case
                when rnd(k, '{table}_future') < {future_share} and {business_ts} is not null
                    then {business_ts} - to_seconds((3600 + floor(rnd(k, '{table}_fut') * 86400 * 20))::bigint)
                else landed_at(coalesce({business_ts}, {s.start}), k, '{table}_load', {s.sync_end})
            end as _loaded_at
        from g_{table}
    ),
    redelivered as (
        select * replace (
            case when rnd(k, '{table}_tie') < 0.02 then _loaded_at
                 else _loaded_at + (({s.sync_end} - _loaded_at) * rnd(k, '{table}_redeliver_t')) end
                as _loaded_at
        )
        from landed
        where rnd(k, '{table}_redeliver') < 0.02
    ),
    last_sync as (
        select * replace ({s.sync_end} - to_seconds(floor(rnd(k, '{table}_sync') * 7200)::bigint) as _loaded_at)
        from landed
        order by {business_ts} desc nulls last, k
        limit 3
    )
    select {columns} from landed
    union all
    select {columns} from redelivered
    union all
    select {columns} from last_sync
    """


def _entity_loaded(table: str, s: Settings) -> str:
    """Entity tables land each version after its ``updated_at`` (already in the stage table)."""
    columns = column_list(table)
    return f"""
    insert into {s.relation(table)} ({columns})
    with landed as (
        select *, updated_at_load as _loaded_at from g_{table}
    ),
    last_sync as (
        select * replace ({s.sync_end} - to_seconds(floor(rnd(k, '{table}_sync') * 7200)::bigint) as _loaded_at)
        from landed
        order by updated_at desc nulls last, k
        limit 3
    )
    select {columns} from landed
    union all
    select {columns} from last_sync
    """


def _steps(s: Settings) -> list[tuple[str, list[str]]]:
    """(table, statements) in order; each statement is vectorised SQL."""
    crm = dict(_crm(s))
    email = dict(_email(s))
    shop = dict(_shop(s))
    orders_insert = f"""
    insert into {s.relation("shop_orders")} ({column_list("shop_orders")})
    with landed as (
        select
            * replace (
                case when is_future and ordered_at is not null
                     then coalesce(updated_at, ordered_at) + interval 3 day else ordered_at end as ordered_at
            ),
            landed_at(coalesce(updated_at, ordered_at, {s.start}), k, 'ord_load', {s.sync_end}) as _loaded_at
        from g_shop_orders
        -- A version updated after the as-of date has not happened yet.
        where updated_at is null or updated_at < {s.sync_end}
    ),
    last_sync as (
        select * replace ({s.sync_end} - to_seconds(floor(rnd(k, 'ord_sync') * 7200)::bigint) as _loaded_at)
        from landed
        order by updated_at desc nulls last, k
        limit 3
    )
    select {column_list("shop_orders")} from landed
    union all
    select {column_list("shop_orders")} from last_sync
    """
    checkout_email = _landed_email("p.i * 4 + n", "chk_email", 0.03, 0.25)
    return [
        ("persons", [*_macros(s), _country_text(), _persons(s)]),
        ("crm_accounts", [crm["crm_accounts"], _entity_loaded("crm_accounts", s)]),
        ("crm_contacts", [crm["crm_contacts"], _entity_loaded("crm_contacts", s)]),
        ("crm_contact_tags", [crm["crm_contact_tags"], _loaded("crm_contact_tags", "tagged_at", s, 0.004)]),
        ("email_campaigns", [email["email_campaigns"], _loaded("email_campaigns", "sent_at", s, 0.0)]),
        ("email_events", [email["email_events"], _loaded("email_events", "occurred_at", s, 0.003)]),
        ("shop_customers", [shop["shop_customers"], _loaded("shop_customers", "updated_at", s, 0.0)]),
        (
            "shop_orders",
            [
                shop["shop_orders"],
                _planted_orders(),
                ORDERS_RAW.format(second_version_at=SECOND_VERSION_AT, discount=DISCOUNT),
                orders_insert,
            ],
        ),
        ("shop_order_items", [ITEMS_RAW, _loaded("shop_order_items", "ordered_ts", s, 0.0)]),
        (
            "shop_refunds",
            [
                REFUNDS_RAW.format(horizon=HORIZON_DAYS, discount=DISCOUNT, refund=_refund("total_amount", "currency")),
                _loaded("shop_refunds", "refunded_at", s, 0.004),
            ],
        ),
        (
            "shop_checkouts",
            [
                CHECKOUTS_RAW.format(
                    horizon=HORIZON_DAYS,
                    email=checkout_email,
                    completed=_completed_checkouts("k"),
                    usd_amount=_usd_sized("p.i * 4 + n", "chk_amount"),
                    currency=_currency("p.country_code"),
                ),
                _loaded("shop_checkouts", "created_at", s, 0.004),
            ],
        ),
    ]


def _connect(database: Path) -> duckdb.DuckDBPyConnection:
    """A connection that spills instead of growing.

    DuckDB's default memory limit is 80 % of RAM, so at profile L the stage tables and
    joins used to stay in memory (12.5 GB). Under ``MEMORY_LIMIT`` DuckDB offloads temp
    tables and intermediate results to ``<database>.tmp`` (removed on close). Insertion
    order is not preserved, which lets large inserts stream; nothing relies on it (every
    ``limit`` is ordered down to the row key, and raw tables are sets).
    """
    import duckdb

    con = duckdb.connect(str(database))
    con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    con.execute("set preserve_insertion_order = false")
    return con


def generate(
    database: Path,
    profile: str = "demo",
    as_of_date: dt.date | None = None,
    seed: int = 42,
    parquet_dir: Path | None = None,
    progress: Progress | None = None,
    locations: dict[str, Location] | None = None,
) -> dict[str, int]:
    """Replace the raw tables of ``database`` with synthetic data; return rows per table.

    The tables go to ``locations`` (audience.raw_schema.raw_locations; default: schema
    raw). ``progress(table, rows)`` is called after each table. With ``parquet_dir``, each
    raw table is also written there as ``<table>.parquet``.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    settings = Settings(
        customers=PROFILES[profile],
        as_of_date=as_of_date or dt.datetime.now(dt.UTC).date(),
        seed=seed,
        raw=locations or raw_locations(),
    )
    counts: dict[str, int] = {}
    database.parent.mkdir(parents=True, exist_ok=True)
    with _connect(database) as con:
        con.execute("begin transaction")
        create_raw_tables(con, settings.raw)
        for table, statements in _steps(settings):
            for statement in statements:
                con.execute(statement)
            if table in RAW_TABLES:
                counts[table] = con.execute(f"select count(*) from {settings.relation(table)}").fetchall()[0][0]
                if progress:
                    progress(table, counts[table])
        con.execute("commit")
        if parquet_dir is not None:
            parquet_dir.mkdir(parents=True, exist_ok=True)
            for table in RAW_TABLES:
                target = parquet_dir / f"{table}.parquet"
                con.execute(f"copy {settings.relation(table)} to '{target}' (format parquet)")
    return counts


# --- One more day -------------------------------------------------------------------------
#
# A database generated as of D holds data up to D 00:00. ``generate_next_day`` appends the
# day D itself, as the next EL syncs would land it, so that a build as of D + 1 is fresh.
# The day is the last day of the horizon that ends at D + 1 (day offset HORIZON_DAYS - 1),
# which lets it reuse the macros and the person table of the full generator.

EPOCH = dt.date(2000, 1, 1)


@dataclass(frozen=True)
class NextDay:
    """What one appended day depends on."""

    customers: int
    day: dt.date
    seed: int
    raw: dict[str, Location] = field(default_factory=raw_locations)

    def relation(self, table: str) -> str:
        """The raw table's qualified name."""
        return self.raw[table].relation(table)

    @property
    def settings(self) -> Settings:
        """Settings of the horizon that ends with this day."""
        return Settings(
            customers=self.customers, as_of_date=self.day + dt.timedelta(days=1), seed=self.seed, raw=self.raw
        )

    @property
    def offset(self) -> int:
        """The day's offset in that horizon."""
        return HORIZON_DAYS - 1

    @property
    def serial(self) -> int:
        """Days since 2000-01-01: part of every key made today, so days never collide."""
        return (self.day - EPOCH).days

    @property
    def stamp(self) -> str:
        """The day as YYYYMMDD, for ids."""
        return self.day.strftime("%Y%m%d")

    @property
    def start(self) -> str:
        """SQL timestamp literal of the day's first second."""
        return f"timestamp '{self.day.isoformat()} 00:00:00'"

    @property
    def end(self) -> str:
        """SQL timestamp literal of the next midnight."""
        return self.settings.sync_end

    @property
    def sign_ups(self) -> int:
        """New persons a day: the generator's sign-up rate at the end of the horizon
        (2 / HORIZON_DAYS of the customers a day), at least five."""
        return max(5, -(-2 * self.customers // HORIZON_DAYS))

    @property
    def first_new_person(self) -> int:
        """Number of the day's first new person, after every earlier day's."""
        return self.customers + self.serial * self.sign_ups


def _day_persons(d: NextDay) -> str:
    """Everyone generated so far, plus today's sign-ups; ``dk`` keys a person's day."""
    return f"""
    create or replace temp table persons as
    with existing as (
        select *, false as is_new from ({_person_rows(0, d.customers)})
    ),
    signed_up as (
        select
            * replace (
                {d.offset} + rnd(i, 'signup_t') as signup_day,
                {d.offset} + 60 - ln(greatest(rnd(i, 'lifetime'), 1e-12)) * 420 as churn_day
            ),
            true as is_new
        from ({_person_rows(d.first_new_person, d.sign_ups)})
    )
    select *, i * 100000 + {d.serial} as dk from existing
    union all
    select *, i * 100000 + {d.serial} as dk from signed_up
    """


def _day_crm(d: NextDay) -> list[str]:
    """Today's sign-ups who are in the CRM, and their first tags."""
    contacts = f"""
    create or replace temp table g_crm_contacts as
    with contacts as (
        select
            p.*,
            'CON-' || lpad(p.i::varchar, 8, '0') as contact_id,
            {_account_of("p.i", _account_count(d.customers))} as account_id,
            day_ts(p.signup_day, p.dk, 'con_created') as created_at
        from persons as p
        where p.is_new and p.in_crm
    )
    select
        case when rnd(p.dk, 'con_nullkey') < 0.004 then null else p.contact_id end as contact_id,
        p.account_id,
        {_landed_email("p.dk", "con_email", 0.02, 0.005)} as email,
        messy(p.first_name, rnd(p.dk, 'con_fn')) as first_name,
        messy(p.last_name, rnd(p.dk, 'con_ln')) as last_name,
        case when p.account_id is not null then pick(['CEO', 'Head of Marketing', 'Buyer',
            'Engineer', 'Analyst', 'Office Manager', null], rnd(p.dk, 'con_title')) end as job_title,
        country_text(p.country_code, rnd(p.dk, 'con_country')) as country,
        false as is_deleted,
        p.created_at,
        p.created_at as updated_at,
        p.dk as k
    from contacts as p
    """
    tags = f"""
    create or replace temp table g_crm_contact_tags as
    select
        c.contact_id,
        pick({TAGS}, rnd(c.k * 4 + n, 'tag_value')) as tag,
        c.created_at + to_seconds(floor(rnd(c.k * 4 + n, 'tag_t')
            * date_diff('second', c.created_at, {d.end} - interval 2 hour))::bigint) as tagged_at,
        c.k * 4 + n as k
    from g_crm_contacts as c, range(2) as r(n)
    where c.contact_id is not null and c.created_at < {d.end} - interval 2 hour
        and rnd(c.k * 4 + n, 'tag_count') < 0.5 / (n + 1)
    """
    return [contacts, tags]


def _day_email(d: NextDay) -> list[str]:
    """Today's campaign to a share of the list, its opens, clicks, bounces and complaints;
    sign-ups' subscribes, a few unsubscribes, and late-arriving opens of the previous
    campaign that happened before today."""
    campaign = f"""
    create or replace temp table g_email_campaigns as
    select
        'CMP-{d.stamp}' as campaign_id,
        'Daily ' || pick(['Picks', 'News', 'Offer'], rnd({d.serial}, 'cmp_name')) || ' {d.day.isoformat()}'
            as campaign_name,
        messy(case when rnd({d.serial}, 'cmp_type') < 0.6 then 'newsletter' else 'promotion' end,
              rnd({d.serial}, 'cmp_type_m')) as campaign_type,
        {d.start} + to_seconds((9 * 3600 + floor(rnd({d.serial}, 'cmp_t') * 3 * 3600))::bigint) as sent_at,
        {d.serial} as k
    """
    window_end = f"{d.end} - interval 2 hour"
    late_from = f"greatest(pv.sent_at, {d.start} - interval 3 day)"
    events = f"""
    create or replace temp table g_email_events as
    with previous_campaign as (
        select campaign_id, sent_at
        from {d.relation("email_campaigns")}
        where campaign_id is not null and sent_at < {d.start}
        order by sent_at desc, campaign_id
        limit 1
    ),
    suppressed as (
        -- Suppressed before today (SPEC section 5): the latest unsubscribe, complaint or
        -- hard bounce at or after the latest subscribe.
        select lower(trim(email)) as email
        from {d.relation("email_events")}
        where lower(trim(event_type)) in ('subscribe', 'unsubscribe', 'complaint', 'bounce')
            and occurred_at < {d.start}
        group by 1
        having max(case when lower(trim(event_type)) in ('unsubscribe', 'complaint')
                            or lower(trim(bounce_type)) = 'hard' then occurred_at end)
            >= coalesce(max(case when lower(trim(event_type)) = 'subscribe' then occurred_at end),
                        timestamp '0001-01-01')
    ),
    members as (
        select
            p.*,
            {_email_expr()} as canonical_email,
            0.15 + 0.5 * rnd(p.i, 'send_share') as send_share
        from persons as p
        where p.on_list and (
            p.is_new or {_leaks("p.i")}
            or {_email_expr()} not in (select suppressed.email from suppressed)
        )
    ),
    sends as (
        select
            m.i,
            m.dk,
            m.canonical_email,
            c.campaign_id,
            c.sent_at + to_seconds((60 + floor(rnd(m.dk, 'send_t') * 600))::bigint) as sent_at,
            0.04 + 0.55 * m.engagement * exp(-greatest(0, {d.offset} - m.churn_day) / 120) as p_open
        from members as m, g_email_campaigns as c
        where not m.is_new and rnd(m.dk, 'send') < m.send_share / 2.5
    ),
    opens as (
        select
            s.*,
            s.sent_at + to_seconds(floor(rnd(s.dk, 'open_t')
                * date_diff('second', s.sent_at, {window_end}))::bigint) as opened_at
        from sends as s
        where rnd(s.dk, 'open') < s.p_open
    ),
    events as (
        select dk, canonical_email, campaign_id, 'send' as event_type, null as bounce_type,
               sent_at as occurred_at, 0 as seq
        from sends
        union all
        select dk, canonical_email, campaign_id, 'open', null, opened_at, 1
        from opens
        union all
        select dk, canonical_email, campaign_id, 'click', null,
               opened_at + to_seconds(floor(rnd(dk, 'click_t')
                   * date_diff('second', opened_at, {window_end}))::bigint), 2
        from opens
        where rnd(dk, 'click') < 0.25
        union all
        select dk, canonical_email, campaign_id, 'bounce',
               case when rnd(dk, 'bounce_t') < 0.4 then 'hard' else 'soft' end,
               sent_at + interval 1 minute, 3
        from sends
        where rnd(dk, 'bounce') < 0.004
        union all
        select dk, canonical_email, campaign_id, 'complaint', null, sent_at + interval 1 hour, 4
        from sends
        where rnd(dk, 'complaint') < 0.0004
        union all
        select dk, canonical_email, null, 'subscribe', null, day_ts(signup_day, dk, 'sub_t'), 5
        from members
        where is_new
        union all
        -- in the afternoon, after today's campaign
        select dk, canonical_email, null, 'unsubscribe', null,
               {d.start} + to_seconds((13 * 3600 + floor(rnd(dk, 'unsub_t') * 8 * 3600))::bigint), 6
        from members
        where not is_new and rnd(dk, 'day_unsub') < 0.001
        union all
        select m.dk, m.canonical_email, pv.campaign_id, 'open', null,
               {late_from} + to_seconds(floor(rnd(m.dk, 'late_t')
                   * date_diff('second', {late_from}, {d.start}))::bigint), 7
        from members as m, previous_campaign as pv
        where not m.is_new and rnd(m.dk, 'late') < 0.005
    ),
    keyed as (
        select *, dk * 8 + seq as k from events
    )
    select
        case when rnd(k, 'evt_nullkey') < 0.003 then null else 'E{d.stamp}-' || k end as event_id,
        campaign_id,
        case when rnd(k, 'evt_bad_email') < 0.008
             then pick(['n/a', canonical_email || '@', replace(canonical_email, '@', ' at ')],
                       rnd(k, 'evt_bad_email_v'))
             else messy(canonical_email, rnd(k, 'evt_email_m')) end as email,
        case when rnd(k, 'evt_type_bad') < 0.006
             then pick(['delivered', 'SPAM', 'deferred', null], rnd(k, 'evt_type_v'))
             else messy(event_type, rnd(k, 'evt_type_m')) end as event_type,
        case when bounce_type is not null then messy(bounce_type, rnd(k, 'bt')) end as bounce_type,
        case when rnd(k, 'evt_ts_null') < 0.003 then null else occurred_at end as occurred_at,
        k
    from keyed
    """
    return [campaign, events]


def _day_shop(d: NextDay) -> list[str]:
    """Sign-ups in the shop; today's orders (a few placed on earlier days and landing late),
    their items and checkouts, abandoned carts; pending orders of the last 30 days that
    complete or are cancelled today; refunds of orders of the last 30 days."""
    customers = f"""
    create or replace temp table g_shop_customers as
    select
        case when rnd(p.dk, 'shc_nullkey') < 0.003 then null else 'C' || p.i end as customer_id,
        {_landed_email("p.dk", "shc_email", 0.015, 0.01)} as email,
        messy(p.first_name, rnd(p.dk, 'shc_fn')) as first_name,
        messy(p.last_name, rnd(p.dk, 'shc_ln')) as last_name,
        country_text(p.country_code, rnd(p.dk, 'shc_country')) as country,
        day_ts(p.signup_day, p.dk, 'shc_created') as created_at,
        day_ts(p.signup_day, p.dk, 'shc_created') as updated_at,
        p.dk as k
    from persons as p
    where p.is_new and p.in_shop
    """
    # The history's rate on this day: a buyer's first order on its day, the other
    # n_orders - 1 spread uniformly over [first_order_day, churn_day); at most one a day.
    day_rate = f"""case when floor(b.first_order_day) = {d.offset} then 1 else 0 end
            + case when b.first_order_day < {d.offset} + 1 and b.churn_day > {d.offset}
                   then (b.n_orders - 1) / greatest(b.churn_day - b.first_order_day, 1) else 0 end"""
    orders_base = f"""
    create or replace temp table g_orders_base as
    with buyers as (
        select b.*
        from ({_buyers("true")}) as b
        where rnd(b.dk, 'day_order') < {day_rate}
    ),
    ranked as (
        -- at least one late order a day (rank 1), however few orders the profile has
        select *, row_number() over (partition by is_new order by rnd(dk, 'late'), dk) as late_rank
        from buyers
    )
    select
        b.i,
        b.dk as k,
        'O' || b.i || '-{d.stamp}' as order_id,
        case when b.in_shop and rnd(b.dk, 'ord_guest') < 0.88 then 'C' || b.i end as customer_id,
        {_landed_email("b.dk", "ord_email", 0.02, 0.07, "b")} as email,
        b.currency,
        {d.offset} - case when not b.is_new and (rnd(b.dk, 'late') < 0.03 or b.late_rank = 1)
                          then 1 + floor(rnd(b.dk, 'late_days') * 2) else 0 end as order_day,
        local_amount({_usd_sized("b.dk", "ord_amount", "b.i")}, b.currency) as gross_amount,
        rnd(b.dk, 'ord_discount') < 0.30 as has_discount
    from ranked as b
    """
    # A second version of today's order lands later today.
    second_version_at = (
        "ordered_ts + to_seconds(floor(v * rnd(k * 2 + v, 'ord_upd') "
        f"* greatest(0, date_diff('second', ordered_ts, {d.end} - interval 2 hour)))::bigint)"
    )
    # The latest version of every order placed in the 30 days before today.
    recent_orders = f"""
    create or replace temp table g_recent_orders as
    select
        o.*,
        -1 - (hash(o.order_id, '{d.stamp}') % 1000000000000000)::bigint as k
    from {d.relation("shop_orders")} as o
    where o.order_id is not null
        and o.ordered_at >= {d.start} - interval 30 day and o.ordered_at < {d.start}
    qualify row_number() over (
        partition by o.order_id
        order by o.updated_at desc nulls last, o._loaded_at desc nulls last, hash(o)
    ) = 1
    """
    order_updates = f"""
    insert into g_shop_orders by name
    select
        order_id,
        customer_id,
        email,
        messy(case when rnd(k, 'upd_status') < 0.85 then 'completed' else 'cancelled' end,
              rnd(k, 'ord_status_m')) as status,
        currency,
        total_amount,
        discount_amount,
        ordered_at,
        day_ts({d.offset}, k, 'upd_t') as updated_at,
        k
    from g_recent_orders
    where lower(trim(status)) = 'pending' and coalesce(updated_at, ordered_at) < {d.start}
    -- 10 % of them, and at least one a day
    qualify rnd(k, 'update') < 0.10 or row_number() over (order by rnd(k, 'update'), k) = 1
    """
    refunds = f"""
    create or replace temp table g_shop_refunds as
    select
        case when rnd(k, 'ref_nullkey') < 0.003 then null else 'R' || order_id || '-{d.stamp}' end as refund_id,
        order_id,
        {_refund("total_amount", "upper(trim(currency))")} as amount,
        day_ts({d.offset}, k, 'ref_t') as refunded_at,
        k
    from g_recent_orders
    where lower(trim(status)) = 'completed' and total_amount > 0
    -- the history's 5 % of orders refunded within 30 days, and at least one a day
    qualify rnd(k, 'refund') < 0.05 / 30 or row_number() over (order by rnd(k, 'refund'), k) = 1
    """
    checkouts = (
        f"""
    create or replace temp table g_shop_checkouts as
    with {_completed_checkouts("k * 4 + 2")},
    abandoned as (
        select
            'KA' || p.i || '-{d.stamp}' as checkout_id,
            case when p.in_shop then 'C' || p.i end as customer_id,
            {_landed_email("p.dk", "chk_email", 0.03, 0.25)} as email,
            local_amount({_usd_sized("p.dk", "chk_amount")}, {_currency("p.country_code")}) as cart_amount,
            {_currency("p.country_code")} as currency,
            null as completed_order_id,
            day_ts({d.offset}, p.dk, 'chk_t') as created_at,
            p.dk * 4 + 3 as k
        from persons as p
        where rnd(p.dk, 'abandon') < 0.01
    ),
    all_checkouts as (
        select * from completed
        union all
        select * from abandoned
    )
    """
        + CHECKOUTS_LANDED
    )
    return [
        customers,
        orders_base,
        ORDERS_RAW.format(second_version_at=second_version_at, discount=DISCOUNT),
        ITEMS_RAW,
        recent_orders,
        order_updates,
        refunds,
        checkouts,
    ]


# The timestamp each day row lands after (entity tables: the version's update).
DAY_LANDING: dict[str, str] = {
    "crm_contacts": "updated_at",
    "crm_contact_tags": "tagged_at",
    "email_campaigns": "sent_at",
    "email_events": "occurred_at",
    "shop_customers": "updated_at",
    "shop_orders": "coalesce(updated_at, ordered_at)",
    "shop_order_items": "ordered_ts",
    "shop_refunds": "refunded_at",
    "shop_checkouts": "created_at",
}


def _day_insert(table: str, d: NextDay) -> str:
    """Append a stage table's rows: each lands minutes to hours after its timestamp, never
    before today's first second (late arrivals land today), and before midnight; 2 % are
    re-delivered later the same day."""
    columns = column_list(table)
    landing = DAY_LANDING[table]
    return f"""
    insert into {d.relation(table)} ({columns})
    with landed as (
        select
            *,
            landed_at(greatest(coalesce({landing}, {d.start}), {d.start}), k, '{table}_load', {d.end}) as _loaded_at
        from g_{table}
    ),
    redelivered as (
        select * replace (_loaded_at + ({d.end} - _loaded_at) * rnd(k, '{table}_redeliver_t') as _loaded_at)
        from landed
        where rnd(k, '{table}_redeliver') < 0.02
    )
    select {columns} from landed
    union all
    select {columns} from redelivered
    """


def _day_last_sync(table: str, d: NextDay) -> str:
    """The day's last sync re-delivers the three most recently loaded rows of every table
    (also tables with nothing new today) in the last two hours before midnight, so a build
    as of the next day passes source freshness. A copy never lands before its original."""
    columns = column_list(table)
    return f"""
    insert into {d.relation(table)} ({columns})
    with latest as (
        select t.*, hash(t) as h
        from {d.relation(table)} as t
        where t._loaded_at is not null
        order by t._loaded_at desc, h
        limit 3
    )
    select {columns}
    from (
        select * replace (
            greatest(_loaded_at, {d.end} - to_seconds(floor(rnd(h, '{table}_sync') * 7200)::bigint)) as _loaded_at
        )
        from latest
    )
    """


def _row_counts(con: duckdb.DuckDBPyConnection, d: NextDay, tables: Iterable[str] = RAW_TABLES) -> dict[str, int]:
    """Rows per raw table."""
    return {table: con.execute(f"select count(*) from {d.relation(table)}").fetchall()[0][0] for table in tables}


def _latest_load(con: duckdb.DuckDBPyConnection, d: NextDay) -> dt.datetime | None:
    """The latest ``_loaded_at`` over the raw tables (None when they are empty)."""
    union = " union all ".join(f"select max(_loaded_at) as m from {d.relation(table)}" for table in RAW_TABLES)
    return con.execute(f"select max(m) from ({union})").fetchall()[0][0]


def generate_next_day(
    database: Path,
    profile: str,
    as_of_date: dt.date,
    seed: int = 42,
    progress: Progress | None = None,
    locations: dict[str, Location] | None = None,
) -> dict[str, int]:
    """Append the day ``as_of_date`` to raw data generated as of that date (in
    ``locations``, default schema raw); return rows appended per table.

    The database must hold ``generate(database, profile, as_of_date, seed)`` (and any
    earlier appended days): data up to ``as_of_date`` 00:00. Every appended row is loaded
    during ``as_of_date``, so a build as of ``as_of_date + 1`` is fresh. Call again with
    the next date to append the day after. Same arguments, same rows.
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}: choose one of {', '.join(PROFILES)}")
    d = NextDay(customers=PROFILES[profile], day=as_of_date, seed=seed, raw=locations or raw_locations())
    with _connect(database) as con:
        latest = _latest_load(con, d)
        if latest is not None and latest >= dt.datetime.combine(d.day, dt.time()):
            raise ValueError(
                f"{database} already holds rows loaded at {latest}: generate_next_day appends the day "
                f"after the data's as-of date, and {d.day} is not after it"
            )
        before = _row_counts(con, d)
        con.execute("begin transaction")
        stage = [
            *_macros(d.settings),
            _country_text(),
            _day_persons(d),
            *_day_crm(d),
            *_day_email(d),
            *_day_shop(d),
        ]
        for statement in stage:
            con.execute(statement)
        for table in RAW_TABLES:
            if table in DAY_LANDING:
                con.execute(_day_insert(table, d))
            con.execute(_day_last_sync(table, d))
            if progress:
                progress(table, _row_counts(con, d, [table])[table] - before[table])
        con.execute("commit")
        after = _row_counts(con, d)
    return {table: after[table] - before[table] for table in RAW_TABLES}
