"""Payment providers as pure adapters: `PaymentSettings` in, `Charge` results out.

* `base` - `PaymentProvider`, `PaymentSettings`, `ChargeRequest`, `Charge`, `PaymentError`;
* `efi` - Efí's Pix API; `fake` - in-process charges (`confirm` plays the payer);
* `registry` - the providers by name.

Nothing here imports models, services, jobs or the database: `services/billing/payments.py` builds
the settings from the config and the requests from invoices.
"""
