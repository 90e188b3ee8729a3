"""SaaS operations: companies, plans, invoices, Pix subscriptions, sign-up, standing.

Entry points: `standing.check_can_send` and `sending_blocked` (overdue companies),
`plans.feature_enabled` and `enforce_limit`, `invoices`, `subscriptions.create_charge`,
`signup`, `companies`, `payments` (the payment provider bound to the deployment),
`policies.install` (registers the overdue and plan-feature request policies with
`whaticket.security` at app creation).
"""
