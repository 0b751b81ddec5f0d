{#- Priority lists (SPEC section 9), from var priority_lists: each a `name` (which must
    equal its slug, SPEC section 5) and `segments`, an ordered list of 'family.segment'
    with a family of the segment_families registry, none repeated. A mistake fails the
    compilation naming the list. -#}
{% macro priority_lists() -%}
    {%- set lists = var('priority_lists', []) or [] -%}
    {%- if lists is string or lists is mapping -%}
        {{ exceptions.raise_compiler_error("var priority_lists must be a list of {name, segments: ['family.segment', ...]}") }}
    {%- endif -%}
    {%- set families = var('segment_families').keys() | list -%}
    {%- set names = [] -%}
    {%- for list in lists -%}
        {%- set name = list.get('name') if list is mapping else none -%}
        {%- if not name or name is not string or audience.slug_of(name) != name -%}
            {{ exceptions.raise_compiler_error("priority list " ~ loop.index ~ " ('" ~ name ~ "'): name must equal its slug ('" ~ audience.slug_of(name | string) ~ "'): lowercase a-z, 0-9 and single '_', at most 63 characters") }}
        {%- endif -%}
        {%- if name in names -%}
            {{ exceptions.raise_compiler_error("priority list '" ~ name ~ "' is declared twice") }}
        {%- endif -%}
        {%- do names.append(name) -%}
        {%- set entries = list.get('segments') -%}
        {%- if not entries or entries is string or entries is mapping -%}
            {{ exceptions.raise_compiler_error("priority list '" ~ name ~ "' needs segments: an ordered list of 'family.segment'") }}
        {%- endif -%}
        {%- set seen = [] -%}
        {%- for entry in entries -%}
            {%- set parts = (entry | string).split('.') -%}
            {%- if entry is not string or parts | length != 2 or parts[0] not in families or parts[1] == '' -%}
                {{ exceptions.raise_compiler_error("priority list '" ~ name ~ "': entry '" ~ entry ~ "' must be 'family.segment' with family one of " ~ families | join(', ')) }}
            {%- endif -%}
            {%- if entry in seen -%}
                {{ exceptions.raise_compiler_error("priority list '" ~ name ~ "': entry '" ~ entry ~ "' is repeated") }}
            {%- endif -%}
            {%- do seen.append(entry) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(lists) }}
{%- endmacro %}

{#- The slug of SPEC section 5, at compile time: lower(trim(x)), runs outside a-z0-9 to
    one '_', none at either end; over 63 characters, the first 54 (then any trailing '_'
    removed), '_' and the first 8 hex digits of md5 of the whole slug. -#}
{% macro slug_of(text) -%}
    {%- set slug = modules.re.sub('^_+|_+$', '', modules.re.sub('[^a-z0-9]+', '_', (text | string).strip(' ').lower())) -%}
    {%- if slug | length > 63 -%}
        {%- set slug = modules.re.sub('_+$', '', slug[:54]) ~ '_' ~ local_md5(slug)[:8] -%}
    {%- endif -%}
    {{ return(slug) }}
{%- endmacro %}
