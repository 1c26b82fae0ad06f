-- demo/catalog.sql - the demo bank's decision catalog, built in SQL and
-- applied with ONE call of kaireon.apply_catalog (docs/catalog.md).
--
-- Run with psql for the current tenant, as a member of kaireon_admin (or a
-- superuser), after SET kaireon.tenant = '...':
--
--     \i demo/catalog.sql
--
-- What it loads: 10 categories, 4 channels, 6 placements, 5 outcome types,
-- 100 offers, 413 creatives, 1,000 customers with their consents, 3
-- behavioral metrics, 1 scorecard model, 3 flows, 11 contact policies and 5
-- frequency caps. 413 creatives are more content items than Community (100)
-- allows: the demo runs its tenant under an enterprise licence.
--
-- Everything is deterministic: the variety comes from md5 of the ids and
-- from modular arithmetic on offer numbers, never from random(). Running the
-- script again changes nothing (apply_catalog merges and reports every row
-- as unchanged).
WITH
-- ---------------------------------------------------------------------------
-- Categories: mortgages sit under loans, investments under savings, travel
-- under rewards. `rule` is the eligibility of the category's offers that do
-- not have their own; `tagline` and `base_value` feed the offers below.
category_rows (id, name, parent_id, base_value, rule, tagline) AS (VALUES
    ('cards',       'Credit and debit cards', NULL,      120, 'customer.age >= 18 and customer.credit_score between 650 and 850',
     'A card that pays you back.'),
    ('loans',       'Loans',                  NULL,      450, 'customer.age >= 18 and customer.income >= coalesce(offer.min_income, 20000) and customer.credit_score >= 620',
     'Borrow at a fixed rate, repay early for free.'),
    ('mortgages',   'Mortgages',              'loans',  2500, 'customer.age between 21 and 70 and customer.income >= 40000 and not coalesce(customer.has_mortgage, false)',
     'Find the mortgage that fits your plans.'),
    ('savings',     'Savings',                NULL,       60, 'customer.age >= 18',
     'Make your money work harder.'),
    ('insurance',   'Insurance',              NULL,      180, 'customer.age >= 18',
     'Cover for what matters to you.'),
    ('investments', 'Investments',            'savings', 600, 'customer.age >= 18 and customer.income >= 40000',
     'Invest for the long term, from 25 a month.'),
    ('accounts',    'Current accounts',       NULL,       90, 'customer.age >= 18',
     'Everyday banking, your way.'),
    ('travel',      'Travel',                 'rewards',  40, 'customer.age >= 18',
     'Spend and save abroad without surprises.'),
    ('rewards',     'Rewards',                NULL,       15, 'days_since(customer.last_login) <= 90',
     'A little extra, just for banking with us.'),
    ('business',    'Business banking',       NULL,      800, 'has_segment(''small_business'')',
     'Banking built for small businesses.')
),
channel_rows (id, name, type, cta) AS (VALUES
    ('web',         'Website',        'web',         'Find out more'),
    ('mobile',      'Mobile app',     'mobile',      'View in the app'),
    ('email',       'E-mail',         'email',       'See the details'),
    ('call_center', 'Contact centre', 'call_center', 'Offer a call-back from a specialist')
),
placement_rows (id, channel_id, name, slots) AS (VALUES
    ('web-hero',           'web',         'Homepage hero carousel', 3),
    ('web-sidebar',        'web',         'Account sidebar',        2),
    ('mobile-banner',      'mobile',      'App home banner',        1),
    ('email-body',         'email',       'Newsletter body',        2),
    ('email-footer',       'email',       'Newsletter footer',      1),
    ('call-center-script', 'call_center', 'Agent next-best script', 1)
),
outcome_rows (id, kind) AS (VALUES
    ('impression', 'impression'), ('click', 'positive'), ('accept', 'positive'),
    ('dismiss', 'negative'), ('ignore', 'neutral')
),
-- ---------------------------------------------------------------------------
-- The 100 offers: number, category, id, name, own eligibility (NULL: the
-- category's rule), mandatory.
offer_source (n, category_id, id, name, rule, mandatory) AS (VALUES
    (  1, 'cards', 'card-cashback',          'Cashback Credit Card',       NULL, false),
    (  2, 'cards', 'card-platinum-rewards',  'Platinum Rewards Card',      'customer.credit_score >= 720 and customer.income >= 50000', false),
    (  3, 'cards', 'card-travel-miles',      'Travel Miles Card',          'customer.credit_score >= 700 and (has_segment(''premier'') or has_segment(''high_value'') or customer.income >= 60000)', false),
    (  4, 'cards', 'card-student',           'Student Credit Card',        'has_segment(''student'') and customer.age between 18 and 25', false),
    (  5, 'cards', 'card-balance-transfer',  'Balance Transfer Card',      NULL, false),
    (  6, 'cards', 'card-low-apr',           'Low APR Card',               'customer.credit_score >= 680', false),
    (  7, 'cards', 'card-premier-metal',     'Premier Metal Card',         'has_segment(''premier'') and customer.income >= 100000', false),
    (  8, 'cards', 'card-credit-builder',    'Credit Builder Card',        'customer.age >= 18 and customer.credit_score < 650', false),
    (  9, 'cards', 'card-contactless-debit', 'Contactless Debit Upgrade',  'customer.age >= 18', false),
    ( 10, 'cards', 'card-family-shared',     'Family Shared Card',         'customer.age between 25 and 60 and customer.credit_score >= 650', false),
    ( 11, 'loans', 'loan-personal',          'Personal Loan',              NULL, false),
    ( 12, 'loans', 'loan-car',               'Car Loan',                   NULL, false),
    ( 13, 'loans', 'loan-home-improvement',  'Home Improvement Loan',      'customer.has_mortgage = true and customer.credit_score >= 620', false),
    ( 14, 'loans', 'loan-debt-consolidation','Debt Consolidation Loan',    'customer.credit_score between 600 and 720 and customer.income >= 25000', false),
    ( 15, 'loans', 'loan-green-energy',      'Green Energy Loan',          'customer.has_mortgage = true', false),
    ( 16, 'loans', 'loan-wedding',           'Wedding Loan',               'customer.age between 22 and 45 and customer.income >= 30000', false),
    ( 17, 'loans', 'loan-graduate',          'Graduate Loan',              'customer.age between 21 and 30 and has_segment(''young_professional'')', false),
    ( 18, 'loans', 'loan-small-emergency',   'Small Emergency Loan',       'customer.age >= 18 and customer.credit_score >= 580', false),
    ( 19, 'loans', 'loan-top-up',            'Pre-approved Top-up Loan',   'customer.credit_score >= 720 and customer.tenure_years >= 3', false),
    ( 20, 'loans', 'loan-flexible-credit',   'Flexible Credit Line',       'customer.income >= 40000 and customer.credit_score >= 680', false),
    ( 21, 'mortgages', 'mtg-first-time-buyer',  'First-time Buyer Mortgage',  'customer.age between 21 and 45 and customer.income >= 35000 and not coalesce(customer.has_mortgage, false)', false),
    ( 22, 'mortgages', 'mtg-remortgage-2y',     '2-year Fixed Remortgage',    'customer.has_mortgage = true', false),
    ( 23, 'mortgages', 'mtg-fixed-5y',          '5-year Fixed Mortgage',      NULL, false),
    ( 24, 'mortgages', 'mtg-tracker',           'Tracker Mortgage',           NULL, false),
    ( 25, 'mortgages', 'mtg-buy-to-let',        'Buy-to-let Mortgage',        'customer.income >= 75000 and customer.has_mortgage = true', false),
    ( 26, 'mortgages', 'mtg-green-home',        'Green Home Mortgage',        NULL, false),
    ( 27, 'mortgages', 'mtg-offset',            'Offset Mortgage',            'has_segment(''premier'') or has_segment(''high_value'')', false),
    ( 28, 'mortgages', 'mtg-shared-ownership',  'Shared Ownership Mortgage',  'customer.age between 21 and 40 and customer.income between 25000 and 60000 and not coalesce(customer.has_mortgage, false)', false),
    ( 29, 'mortgages', 'mtg-porting',           'Mortgage Porting Consultation', 'customer.has_mortgage = true', false),
    ( 30, 'mortgages', 'mtg-review',            'Mortgage Review Appointment','customer.has_mortgage = true and customer.tenure_years >= 2', true),
    ( 31, 'savings', 'sav-easy-access',      'Easy Access Saver',          NULL, false),
    ( 32, 'savings', 'sav-fixed-1y',         '1-year Fixed Rate Bond',     'customer.income >= 20000', false),
    ( 33, 'savings', 'sav-fixed-2y',         '2-year Fixed Rate Bond',     'customer.income >= 30000', false),
    ( 34, 'savings', 'sav-regular',          'Regular Saver',              NULL, false),
    ( 35, 'savings', 'sav-cash-isa',         'Cash ISA',                   NULL, false),
    ( 36, 'savings', 'sav-junior-isa',       'Junior ISA',                 'customer.age between 25 and 55', false),
    ( 37, 'savings', 'sav-notice-90',        '90-day Notice Account',      'customer.income >= 30000', false),
    ( 38, 'savings', 'sav-round-up',         'Round-up Saver',             'has_segment(''digital_first'') and context.channel in (''web'', ''mobile'')', false),
    ( 39, 'savings', 'sav-premier',          'Premier Saver',              'has_segment(''premier'')', false),
    ( 40, 'savings', 'sav-retirement',       'Retirement Income Saver',    'has_segment(''retiree'')', false),
    ( 41, 'insurance', 'ins-home',              'Home Insurance',             'customer.has_mortgage = true', false),
    ( 42, 'insurance', 'ins-contents',          'Contents Insurance',         'not coalesce(customer.has_mortgage, false)', false),
    ( 43, 'insurance', 'ins-car',               'Car Insurance',              'customer.age between 18 and 80', false),
    ( 44, 'insurance', 'ins-travel-annual',     'Annual Travel Insurance',    NULL, false),
    ( 45, 'insurance', 'ins-life',              'Life Insurance',             'customer.age between 25 and 65', false),
    ( 46, 'insurance', 'ins-income-protection', 'Income Protection',          'customer.age between 22 and 60 and customer.income >= 25000', false),
    ( 47, 'insurance', 'ins-pet',               'Pet Insurance',              NULL, false),
    ( 48, 'insurance', 'ins-gadget',            'Gadget Insurance',           'has_segment(''digital_first'') or has_segment(''student'')', false),
    ( 49, 'insurance', 'ins-critical-illness',  'Critical Illness Cover',     'customer.age between 30 and 60', false),
    ( 50, 'insurance', 'ins-landlord',          'Landlord Insurance',         'has_segment(''high_value'') and customer.has_mortgage = true', false),
    ( 51, 'investments', 'inv-stocks-isa',      'Stocks and Shares ISA',      NULL, false),
    ( 52, 'investments', 'inv-ready-made',      'Ready-made Portfolio',       NULL, false),
    ( 53, 'investments', 'inv-pension-transfer','Pension Consolidation',      'customer.age between 30 and 64', false),
    ( 54, 'investments', 'inv-robo-starter',    'Robo-advice Starter',        'customer.age <= 40 and context.channel in (''web'', ''mobile'')', false),
    ( 55, 'investments', 'inv-ethical-fund',    'Ethical Fund',               NULL, false),
    ( 56, 'investments', 'inv-wealth-review',   'Premier Wealth Review',      'has_segment(''premier'') or has_segment(''high_value'')', false),
    ( 57, 'investments', 'inv-general-account', 'General Investment Account', 'customer.income >= 60000', false),
    ( 58, 'investments', 'inv-sipp',            'Self-invested Personal Pension', 'customer.age between 25 and 70', false),
    ( 59, 'investments', 'inv-monthly-plan',    'Monthly Investing Plan',     'customer.age >= 18 and customer.income >= 25000', false),
    ( 60, 'investments', 'inv-junior-isa',      'Junior Stocks and Shares ISA', 'customer.age between 25 and 55 and customer.income >= 40000', false),
    ( 61, 'accounts', 'acc-switch',          'Current Account Switch',     NULL, false),
    ( 62, 'accounts', 'acc-premier',         'Premier Account',            'customer.income >= 100000 or has_segment(''high_value'')', false),
    ( 63, 'accounts', 'acc-student',         'Student Account',            'has_segment(''student'')', false),
    ( 64, 'accounts', 'acc-graduate',        'Graduate Account',           'customer.age between 21 and 27', false),
    ( 65, 'accounts', 'acc-joint',           'Joint Account',              NULL, false),
    ( 66, 'accounts', 'acc-packaged',        'Packaged Account',           'customer.income >= 35000', false),
    ( 67, 'accounts', 'acc-basic',           'Basic Bank Account',         'customer.credit_score < 600', false),
    ( 68, 'accounts', 'acc-digital',         'Digital-only Account',       'context.channel in (''web'', ''mobile'')', false),
    ( 69, 'accounts', 'acc-overdraft-review','Overdraft Review',           'has_segment(''at_risk'')', true),
    ( 70, 'accounts', 'acc-security-check',  'Account Security Check',     NULL, true),
    ( 71, 'travel', 'trv-money-card',        'Travel Money Card',          NULL, false),
    ( 72, 'travel', 'trv-currency-order',    'Currency Order',             NULL, false),
    ( 73, 'travel', 'trv-lounge-pass',       'Airport Lounge Pass',        'has_segment(''premier'') or has_segment(''high_value'')', false),
    ( 74, 'travel', 'trv-holiday-pot',       'Holiday Savings Pot',        'context.channel in (''web'', ''mobile'')', false),
    ( 75, 'travel', 'trv-fee-free-abroad',   'Fee-free Spending Abroad',   NULL, false),
    ( 76, 'travel', 'trv-global-transfer',   'Global Money Transfer',      NULL, false),
    ( 77, 'travel', 'trv-points-booster',    'Travel Points Booster',      'days_since(customer.last_login) <= 60', false),
    ( 78, 'travel', 'trv-multi-currency',    'Multi-currency Wallet',      'has_segment(''digital_first'')', false),
    ( 79, 'travel', 'trv-ski-cover',         'Winter Sports Cover',        'customer.age between 18 and 65', false),
    ( 80, 'travel', 'trv-car-hire-excess',   'Car Hire Excess Cover',      NULL, false),
    ( 81, 'rewards', 'rew-cashback-boost',   'Cashback Boost',             NULL, false),
    ( 82, 'rewards', 'rew-refer-friend',     'Refer a Friend',             'customer.tenure_years >= 1', false),
    ( 83, 'rewards', 'rew-birthday-bonus',   'Birthday Bonus',             NULL, false),
    ( 84, 'rewards', 'rew-partner-offers',   'Partner Retailer Offers',    NULL, false),
    ( 85, 'rewards', 'rew-double-points',    'Double Points Weekend',      NULL, false),
    ( 86, 'rewards', 'rew-green',            'Green Rewards',              NULL, false),
    ( 87, 'rewards', 'rew-tier-upgrade',     'Loyalty Tier Upgrade',       'customer.tenure_years >= 5', false),
    ( 88, 'rewards', 'rew-coffee-perks',     'Coffee Perks',               'has_segment(''young_professional'') or has_segment(''student'')', false),
    ( 89, 'rewards', 'rew-cinema',           'Cinema Rewards',             NULL, false),
    ( 90, 'rewards', 'rew-charity-round-up', 'Charity Round-up',           NULL, false),
    ( 91, 'business', 'biz-current-account', 'Business Current Account',   NULL, false),
    ( 92, 'business', 'biz-credit-card',     'Business Credit Card',       'has_segment(''small_business'') and customer.credit_score >= 650', false),
    ( 93, 'business', 'biz-card-terminal',   'Card Terminal',              NULL, false),
    ( 94, 'business', 'biz-loan',            'Business Loan',              'has_segment(''small_business'') and customer.credit_score >= 660', false),
    ( 95, 'business', 'biz-invoice-finance', 'Invoice Finance',            NULL, false),
    ( 96, 'business', 'biz-savings',         'Business Savings',           NULL, false),
    ( 97, 'business', 'biz-payroll',         'Payroll Service',            NULL, false),
    ( 98, 'business', 'biz-startup',         'Start-up Package',           'has_segment(''small_business'') and customer.tenure_years <= 2', false),
    ( 99, 'business', 'biz-insurance',       'Business Insurance',         NULL, false),
    (100, 'business', 'biz-asset-finance',   'Asset Finance',              'has_segment(''small_business'') and customer.income >= 60000', false)
),
-- Campaign windows (UTC) and budgets of a few offers.
offer_windows (id, start_at, end_at) AS (VALUES
    ('ins-travel-annual',   '2026-01-01T00:00:00Z', '2027-01-01T00:00:00Z'),
    ('trv-car-hire-excess', '2026-05-01T00:00:00Z', '2026-10-01T00:00:00Z'),
    ('trv-ski-cover',       '2026-11-01T00:00:00Z', '2027-04-01T00:00:00Z'),
    ('rew-double-points',   '2026-12-01T00:00:00Z', '2027-01-01T00:00:00Z'),
    ('sav-cash-isa',        '2027-02-01T00:00:00Z', '2027-04-06T00:00:00Z')
),
offer_budgets (id, budget) AS (VALUES
    ('rew-cashback-boost', '{"metric": "value", "limit": 250000, "period": "monthly"}'::jsonb),
    ('rew-refer-friend',   '{"metric": "impressions", "limit": 200000, "period": "weekly"}'),
    ('trv-lounge-pass',    '{"metric": "impressions", "limit": 50000, "period": "monthly"}'),
    ('card-travel-miles',  '{"metric": "value", "limit": 1000000, "period": "total"}')
),
offer_rows AS (
    SELECT o.n, o.id, o.category_id, c.tagline,
           jsonb_strip_nulls(jsonb_build_object(
               'id', o.id,
               'name', o.name,
               'categoryId', o.category_id,
               'priority', (o.n * 37 + 11) % 101,                               -- 0..100
               'value', round(c.base_value * (0.6 + ((o.n * 7) % 9) / 10.0), 2),
               'lever', round(0.5 + ((o.n * 13) % 6) / 10.0, 1),                -- 0.5..1.0
               'startAt', w.start_at,
               'endAt', w.end_at,
               'status', CASE WHEN o.n % 19 = 7 THEN 'paused'
                              WHEN o.n % 29 = 13 THEN 'draft'
                              WHEN o.n = 96 THEN 'retired'
                              ELSE 'active' END,
               'eligibility', coalesce(o.rule, c.rule),
               'mandatory', o.mandatory,
               'budget', b.budget,
               'attributes', CASE o.category_id
                   WHEN 'cards' THEN jsonb_build_object(
                       'apr', 19.9 + (o.n % 5) * 2,
                       'annual_fee', (ARRAY[0, 0, 95, 195, 450])[o.n % 5 + 1],
                       'cashback_pct', round(0.25 + (o.n % 4) * 0.25, 2))
                   WHEN 'loans' THEN jsonb_build_object(
                       'apr', 5.9 + (o.n % 6) * 1.5,
                       'max_amount', 5000 * (o.n % 8 + 2),
                       'min_income', 15000 + (o.n % 4) * 5000,
                       'term_months', 12 * (o.n % 6 + 1))
                   WHEN 'mortgages' THEN jsonb_build_object(
                       'rate', 3.79 + (o.n % 7) * 0.2,
                       'max_ltv', 60 + (o.n % 5) * 7.5,
                       'product_fee', (ARRAY[0, 499, 999, 1499])[o.n % 4 + 1])
                   WHEN 'savings' THEN jsonb_build_object(
                       'aer', 2.5 + (o.n % 8) * 0.35,
                       'min_deposit', (ARRAY[1, 100, 500, 1000, 5000])[o.n % 5 + 1])
                   WHEN 'insurance' THEN jsonb_build_object(
                       'monthly_premium', 6 + (o.n % 9) * 4.5,
                       'excess', (ARRAY[0, 50, 100, 250])[o.n % 4 + 1])
                   WHEN 'investments' THEN jsonb_build_object(
                       'annual_fee_pct', 0.25 + (o.n % 5) * 0.15,
                       'min_investment', (ARRAY[25, 100, 500, 1000, 5000])[o.n % 5 + 1],
                       'risk_level', o.n % 5 + 1)
                   WHEN 'accounts' THEN jsonb_build_object(
                       'monthly_fee', (ARRAY[0, 0, 0, 12, 18, 25])[o.n % 6 + 1],
                       'overdraft_apr', 39.9)
                   WHEN 'travel' THEN jsonb_build_object(
                       'fx_fee_pct', (ARRAY[0, 0, 1.5, 2.99])[o.n % 4 + 1])
                   WHEN 'rewards' THEN jsonb_build_object(
                       'points_multiplier', o.n % 3 + 1,
                       'cashback_pct', round((o.n % 5) * 0.5, 1))
                   ELSE jsonb_build_object(
                       'monthly_fee', (ARRAY[0, 6, 12, 25])[o.n % 4 + 1],
                       'apr', 7.5 + (o.n % 4) * 1.25)
               END)) AS doc
    FROM offer_source o
    JOIN category_rows c ON c.id = o.category_id
    LEFT JOIN offer_windows w ON w.id = o.id
    LEFT JOIN offer_budgets b ON b.id = o.id
),
-- ---------------------------------------------------------------------------
-- Creatives: every offer on the web hero, the app banner and in the e-mail
-- body; every third offer also in the web sidebar; travel and rewards in the
-- e-mail footer; advice products in the contact centre's script.
creative_rows AS (
    SELECT o.id || '-' || p.id AS id, o.id AS offer_id, p.channel_id, p.id AS placement_id,
           jsonb_build_object(
               'title', o.doc ->> 'name',
               'body', CASE WHEN p.channel_id = 'call_center'
                            THEN 'Mention ' || (o.doc ->> 'name') || ': ' || o.tagline || ' Check eligibility before quoting.'
                            ELSE o.tagline END,
               'cta', ch.cta) ||
           CASE WHEN p.channel_id IN ('web', 'mobile')
                THEN jsonb_build_object('image', 'https://cdn.demo-bank.example/offers/' || o.id || '/' || p.id || '.jpg')
                ELSE '{}' END AS content
    FROM offer_rows o
    JOIN placement_rows p ON p.id IN ('web-hero', 'mobile-banner', 'email-body')
        OR (p.id = 'web-sidebar' AND o.n % 3 = 0)
        OR (p.id = 'email-footer' AND o.category_id IN ('travel', 'rewards'))
        OR (p.id = 'call-center-script' AND o.category_id IN ('loans', 'mortgages', 'insurance', 'investments', 'accounts', 'business'))
    JOIN channel_rows ch ON ch.id = p.channel_id
),
-- ---------------------------------------------------------------------------
-- 1,000 customers. h1..h8 are eight 32-bit numbers from md5 of the id.
city_rows (slot, city, timezone) AS (VALUES
    ( 0, 'London', 'Europe/London'), ( 1, 'London', 'Europe/London'), ( 2, 'London', 'Europe/London'),
    ( 3, 'London', 'Europe/London'), ( 4, 'London', 'Europe/London'), ( 5, 'Manchester', 'Europe/London'),
    ( 6, 'Manchester', 'Europe/London'), ( 7, 'Birmingham', 'Europe/London'), ( 8, 'Leeds', 'Europe/London'),
    ( 9, 'Bristol', 'Europe/London'), (10, 'Edinburgh', 'Europe/London'), (11, 'Glasgow', 'Europe/London'),
    (12, 'Dublin', 'Europe/Dublin'), (13, 'Paris', 'Europe/Paris'), (14, 'Paris', 'Europe/Paris'),
    (15, 'Amsterdam', 'Europe/Amsterdam'), (16, 'Berlin', 'Europe/Berlin'), (17, 'Madrid', 'Europe/Madrid'),
    (18, 'New York', 'America/New_York'), (19, 'Toronto', 'America/Toronto')
),
customer_hashes AS (
    SELECT id,
           ('x' || substr(m1, 1, 8))::bit(32)::bigint AS h1, ('x' || substr(m1, 9, 8))::bit(32)::bigint AS h2,
           ('x' || substr(m1, 17, 8))::bit(32)::bigint AS h3, ('x' || substr(m1, 25, 8))::bit(32)::bigint AS h4,
           ('x' || substr(m2, 1, 8))::bit(32)::bigint AS h5, ('x' || substr(m2, 9, 8))::bit(32)::bigint AS h6,
           ('x' || substr(m2, 17, 8))::bit(32)::bigint AS h7, ('x' || substr(m2, 25, 8))::bit(32)::bigint AS h8
    FROM (SELECT id, md5(id) AS m1, md5(id || '#2') AS m2
          FROM (SELECT 'cust-' || lpad(n::text, 4, '0') AS id FROM generate_series(1, 1000) AS n) ids) m
),
customer_ages AS (
    SELECT h.*,
           18 + (h1 % 68 + (h1 >> 8) % 68) / 2 AS age,                        -- 18..85, most around 50
           CASE WHEN h3 % 13 = 0 THEN 350 + h3 % 230 ELSE 580 + h3 % 271 END AS credit_score  -- 1 in 13 below 580
    FROM customer_hashes h
),
customer_facts AS (
    SELECT a.*,
           CASE WHEN age < 23 THEN (6000 + h2 % 22000) / 100 * 100
                WHEN age >= 67 THEN (14000 + h2 % 46000) / 100 * 100
                ELSE (22000 + (h2 % 400) * (h2 % 400)) / 100 * 100 END AS income,  -- 22,000..181,000, most below 80,000
           least(age - 18, h4 % 41) AS tenure_years
    FROM customer_ages a
),
customer_rows AS (
    SELECT f.id, c.timezone,
           jsonb_strip_nulls(jsonb_build_object(
               'age', f.age,
               'income', f.income,
               'credit_score', f.credit_score,
               'tenure_years', f.tenure_years,
               'has_mortgage', f.age BETWEEN 28 AND 72 AND f.income >= 35000 AND f.h5 % 5 < 2,
               'city', c.city,
               -- an ISO date; 1 customer in 40 never logged in
               'last_login', CASE WHEN f.h7 % 40 <> 0 THEN to_char(date '2026-11-30' - (f.h7 % 400)::int, 'YYYY-MM-DD') END
           )) AS attributes,
           array_remove(ARRAY[
               CASE WHEN f.income >= 100000 AND f.credit_score >= 700 THEN 'premier' END,
               CASE WHEN f.age BETWEEN 22 AND 35 AND f.income >= 35000 THEN 'young_professional' END,
               CASE WHEN f.age <= 25 AND f.h8 % 3 <> 0 THEN 'student' END,
               CASE WHEN f.age >= 67 THEN 'retiree' END,
               CASE WHEN f.age BETWEEN 25 AND 70 AND f.h8 % 11 = 0 THEN 'small_business' END,
               CASE WHEN f.income >= 150000 OR (f.tenure_years >= 20 AND f.income >= 80000) THEN 'high_value' END,
               CASE WHEN f.credit_score < 580 THEN 'at_risk' END,
               CASE WHEN f.age < 50 AND f.h8 % 2 = 0 THEN 'digital_first' END
           ], NULL) AS segments
    FROM customer_facts f
    JOIN city_rows c ON c.slot = f.h6 % 20
),
-- Consents: most customers answered for each channel, a few said no, some
-- never answered (no row). One md5 per customer and channel.
consent_rows AS (
    SELECT customer_id, channel_id,
           CASE channel_id
               WHEN 'web'         THEN CASE WHEN h % 25 = 0 THEN NULL WHEN h % 25 < 3 THEN false ELSE true END
               WHEN 'mobile'      THEN CASE WHEN h % 10 = 0 THEN NULL WHEN h % 10 = 1 THEN false ELSE true END
               WHEN 'email'       THEN CASE WHEN h % 8 = 0 THEN NULL WHEN h % 8 < 3 THEN false ELSE true END
               ELSE                    CASE WHEN h % 6 = 0 THEN NULL WHEN h % 6 = 1 THEN false ELSE true END
           END AS granted
    FROM (SELECT c.id AS customer_id, ch.id AS channel_id,
                 ('x' || substr(md5(c.id || '/' || ch.id), 1, 8))::bit(32)::bigint AS h
          FROM customer_rows c CROSS JOIN channel_rows ch) x
),
-- ---------------------------------------------------------------------------
metric_rows (id, name, definition) AS (VALUES
    ('clicks_30d',     'Clicks in the last 30 days',
     '{"outcomeTypes": ["click"], "scope": "global", "windowDays": 30, "aggregation": "count"}'::jsonb),
    ('dismissals_90d', 'Dismissals in the last 90 days',
     '{"outcomeTypes": ["dismiss"], "scope": "global", "windowDays": 90, "aggregation": "count"}'),
    ('accepts_365d',   'Accepted offers in the last year',
     '{"outcomeTypes": ["accept"], "scope": "global", "windowDays": 365, "aggregation": "count"}')
),
model_rows (id, name, type, definition) AS (VALUES
    ('retail_scorecard', 'Retail propensity scorecard', 'scorecard', jsonb_build_object(
        'base', -2.0,
        'scale', 'logistic',
        'factor', 1.0,
        'rules', jsonb_build_array(
            jsonb_build_object('when', 'customer.credit_score >= 720', 'points', 0.6),
            jsonb_build_object('when', 'customer.income >= 75000', 'points', 0.5),
            jsonb_build_object('when', 'has_segment(''premier'') or has_segment(''high_value'')', 'points', 0.7),
            jsonb_build_object('when', 'customer.tenure_years >= 5', 'points', 0.3),
            jsonb_build_object('when', 'days_since(customer.last_login) <= 30', 'points', 0.8),
            jsonb_build_object('when', 'metric(''clicks_30d'') >= 3', 'points', 0.6),
            jsonb_build_object('when', 'metric(''dismissals_90d'') >= 2', 'points', -0.9),
            jsonb_build_object('when', 'offer.categoryId in (''cards'', ''loans'') and has_segment(''young_professional'')', 'points', 0.4),
            jsonb_build_object('when', 'offer.categoryId = ''mortgages'' and customer.age between 28 and 45', 'points', 0.5),
            jsonb_build_object('when', 'offer.categoryId = ''investments'' and customer.age >= 50', 'points', 0.4),
            jsonb_build_object('when', 'has_segment(''at_risk'')', 'points', -1.5))))
),
flow_rows (id, doc) AS (VALUES
    ('homepage', jsonb_build_object(
        'name', 'Homepage hero', 'channelId', 'web', 'placementId', 'web-hero',
        'eligibility', 'customer.age >= 18', 'modelId', 'retail_scorecard',
        'ranking', jsonb_build_object('method', 'top_n', 'n', 3))),
    ('email_weekly', jsonb_build_object(
        'name', 'Weekly newsletter', 'channelId', 'email',
        'eligibility', 'days_since(customer.last_login) <= 365',
        'ranking', jsonb_build_object('method', 'top_n', 'n', 3),
        'groups', jsonb_build_array(
            jsonb_build_object('placementId', 'email-body', 'slots', 2, 'allowPartial', false),
            jsonb_build_object('placementId', 'email-footer', 'slots', 1, 'allowPartial', true)))),
    ('call_center_next_best', jsonb_build_object(
        'name', 'Contact centre next best action', 'channelId', 'call_center', 'placementId', 'call-center-script',
        'modelId', 'retail_scorecard',                                       -- arbitration needs a model
        'ranking', jsonb_build_object(
            'method', 'arbitration', 'n', 1,
            'weights', jsonb_build_object('propensity', 0.5, 'relevance', 0.2, 'impact', 0.2, 'emphasis', 0.1),
            'relevance', '1 + min(coalesce(metric(''accepts_365d''), 0), 5) / 10',
            'contextWeights', jsonb_build_object('mortgages', 1.2, 'insurance', 1.1, 'loans', 1.0))))
),
-- Contact policies (SPEC 6.3), evaluated in priority order.
policy_rows (id, doc) AS (VALUES
    ('pol-frequency',        '{"name": "At most 3 offers a day, 10 a week", "type": "frequency_cap", "priority": 10,
                               "config": {"maxPerDay": 3, "maxPerWeek": 10}}'::jsonb),
    ('pol-total-monthly',    '{"name": "Hard ceiling of 25 contacts a month", "type": "customer_total_cap", "priority": 15,
                               "bypassable": false, "config": {"maxPerMonth": 25}}'),
    ('pol-outbound',         '{"name": "Outbound channels: 1 a day, 2 a week", "type": "cross_channel_cap", "priority": 20,
                               "config": {"channels": ["email", "call_center"], "maxPerDay": 1, "maxPerWeek": 2}}'),
    ('pol-call-hours',       '{"name": "Contact centre on weekdays 8-20 (customer time)", "type": "time_window", "priority": 30,
                               "scope": "channel", "scopeId": "call_center",
                               "config": {"allowedDays": ["mon", "tue", "wed", "thu", "fri"], "startHour": 8, "endHour": 20}}'),
    ('pol-at-risk-no-loans', '{"name": "No loans for customers at risk", "type": "segment_exclusion", "priority": 40,
                               "scope": "category", "scopeId": "loans", "bypassable": false,
                               "config": {"segments": ["at_risk"]}}'),
    ('pol-low-score-credit', '{"name": "No new credit below a score of 560", "type": "category_suppression", "priority": 45,
                               "config": {"categoryIds": ["loans", "cards"], "condition": "customer.credit_score < 560"}}'),
    ('pol-card-dismissals',  '{"name": "Rest card offers after 2 dismissals in 30 days", "type": "outcome_based", "priority": 50,
                               "scope": "category", "scopeId": "cards",
                               "config": {"outcomeTypes": ["dismiss"], "lookbackDays": 30, "maxCount": 2}}'),
    ('pol-loan-cooldown',    '{"name": "Personal loan: 48 hours between impressions", "type": "cooldown", "priority": 60,
                               "scope": "offer", "scopeId": "loan-personal", "config": {"cooldownHours": 48}}'),
    ('pol-one-credit-card',  '{"name": "Cashback or Platinum, not both within 30 days", "type": "mutual_exclusion", "priority": 70,
                               "config": {"offerIds": ["card-cashback", "card-platinum-rewards"], "withinDays": 30}}'),
    ('pol-budgets',          '{"name": "Stop offers whose budget is spent", "type": "budget_exhausted", "priority": 80}'),
    ('pol-service-override', '{"name": "Service offers skip bypassable policies", "type": "allow_override", "priority": 5,
                               "config": {"offerIds": ["rew-birthday-bonus", "card-contactless-debit"]}}')
),
-- System-wide frequency caps (SPEC 6.4).
cap_rows (id, name, scope, scope_id, max_volume, period) AS (VALUES
    ('cap-email-daily',       'E-mail: 20,000 a day',              'channel',  'email',              20000, 'daily'),
    ('cap-call-center-daily', 'Contact centre: 1,500 a day',       'channel',  'call_center',         1500, 'daily'),
    ('cap-mortgages-weekly',  'Mortgages: 5,000 a week',           'category', 'mortgages',           5000, 'weekly'),
    ('cap-loans-monthly',     'Loans: 30,000 a month',             'category', 'loans',              30000, 'monthly'),
    ('cap-metal-monthly',     'Premier Metal Card: 2,000 a month', 'offer',    'card-premier-metal',  2000, 'monthly')
),
-- ---------------------------------------------------------------------------
-- The document.
doc AS (
    SELECT jsonb_build_object(
        'categories', (SELECT jsonb_agg(jsonb_strip_nulls(jsonb_build_object('id', id, 'name', name, 'parentId', parent_id))
                                        ORDER BY id) FROM category_rows),
        'channels', (SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'type', type) ORDER BY id) FROM channel_rows),
        'placements', (SELECT jsonb_agg(jsonb_build_object('id', id, 'channelId', channel_id, 'name', name, 'slots', slots)
                                        ORDER BY id) FROM placement_rows),
        'outcomeTypes', (SELECT jsonb_agg(jsonb_build_object('id', id, 'kind', kind) ORDER BY id) FROM outcome_rows),
        'offers', (SELECT jsonb_agg(doc ORDER BY id) FROM offer_rows),
        'creatives', (SELECT jsonb_agg(jsonb_build_object('id', id, 'offerId', offer_id, 'channelId', channel_id,
                                                          'placementId', placement_id, 'content', content) ORDER BY id)
                      FROM creative_rows),
        'customers', (SELECT jsonb_agg(jsonb_build_object('id', id, 'attributes', attributes, 'segments', to_jsonb(segments),
                                                          'timezone', timezone) ORDER BY id) FROM customer_rows),
        'consents', (SELECT jsonb_agg(jsonb_build_object('customerId', customer_id, 'channelId', channel_id, 'granted', granted)
                                      ORDER BY customer_id, channel_id) FROM consent_rows WHERE granted IS NOT NULL),
        'metrics', (SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'definition', definition) ORDER BY id)
                    FROM metric_rows),
        'models', (SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'type', type, 'definition', definition) ORDER BY id)
                   FROM model_rows),
        'flows', (SELECT jsonb_agg(jsonb_build_object('id', id) || doc ORDER BY id) FROM flow_rows),
        'policies', (SELECT jsonb_agg(jsonb_build_object('id', id) || doc ORDER BY id) FROM policy_rows),
        'caps', (SELECT jsonb_agg(jsonb_build_object('id', id, 'name', name, 'scope', scope, 'scopeId', scope_id,
                                                     'maxVolume', max_volume, 'period', period) ORDER BY id) FROM cap_rows)
    ) AS doc
),
applied AS MATERIALIZED (
    SELECT kaireon.apply_catalog(doc) AS result FROM doc
)
SELECT k.key AS catalog_key,
       (r.counts ->> 'inserted')::int AS inserted,
       (r.counts ->> 'updated')::int AS updated,
       (r.counts ->> 'unchanged')::int AS unchanged,
       (r.counts ->> 'deleted')::int AS deleted
FROM applied a
CROSS JOIN LATERAL jsonb_each(a.result -> 'applied') AS r(key, counts)
JOIN unnest(ARRAY['categories', 'channels', 'placements', 'outcomeTypes', 'offers', 'creatives', 'customers', 'consents',
                  'metrics', 'models', 'flows', 'policies', 'caps']) WITH ORDINALITY AS k(key, ord) ON k.key = r.key
ORDER BY k.ord;
