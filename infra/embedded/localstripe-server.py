"""
localstripe (PyPI, pinned in binaries.ts), started the way this project needs it. Run by
infra/embedded/localstripe.ts with the interpreter of the venv in .cache/localstripe:

    [LOCALSTRIPE_SEPA_DELAY_SECONDS=S] python localstripe-server.py --port P [--state-file F] [--host H]

What this changes in localstripe 1.15.10, and why (docs/local-stripe.md lists the same):
- listens on 127.0.0.1 unless --host says otherwise (0.0.0.0 in docker-compose.yml's container), and
  keeps its state in --state-file (or nowhere): upstream writes every
  instance's state to the one shared /tmp/localstripe.pickle, so two runs on a machine would mix;
- honours Idempotency-Key like Stripe (a retried request answers the first result): our crash safety
  rests on it, upstream ignores the header;
- PaymentIntent creation accepts `description`, `setup_future_usage`, `automatic_payment_methods` and
  `allowed_payment_method_types` (sent by our PaymentIntents; Stripe accepts them, upstream answers 400;
  the allowed types are kept as upstream's `payment_method_types`); with
  `setup_future_usage` the card is attached to the customer once paid, as Stripe does;
- `POST /v1/payment_intents/{id}/confirm` accepts `payment_method` (upstream: 500 "Not implemented"),
  the server-side confirmation the payment page uses;
- a refused card (402) has the error type `card_error`, as at Stripe (upstream: invalid_request_error);
- `POST /v1/payment_methods` accepts a publishable key, as Stripe does for Stripe.js (the page's card
  form creates the PaymentMethod in the browser; the card number never reaches our server).
- SEPA Direct Debit as at Stripe (upstream: a debit "succeeds" at once, no mandates):
  - Mandates: confirming a PaymentIntent (`POST /v1/payment_intents/{id}/confirm`, or creation with
    `confirm=true`) or a SetupIntent (`POST /v1/setup_intents/{id}/confirm`) with a sepa_debit
    PaymentMethod and `mandate_data[customer_acceptance]` creates a Mandate (`GET /v1/mandates/{id}`:
    active, multi_use, a unique 16-character reference, a url served at /mandates/{id}); `mandate=<id>`
    (or, without it, the PaymentMethod's active mandate) is used for off-session debits. A SEPA
    confirmation without a mandate, without billing_details name and email, or with a type outside the
    intent's `allowed_payment_method_types` / `payment_method_types` is refused (400), nothing changed;
  - the PaymentIntent names its mandate (`mandate`, not a Stripe field), as does its Charge
    (`payment_method_details.sepa_debit.mandate`, Stripe's); with `setup_future_usage` the IBAN is
    attached to the customer when the debit is submitted, and a succeeded SetupIntent attaches its
    PaymentMethod to its customer (cards too), as Stripe does;
  - the debit is `processing` (webhook payment_intent.processing) until it settles, by IBAN (Stripe's test numbers, SEPA_TEST_IBANS):
    half a second for most, held for …M02609 (succeeds) and …M02600 (fails) until
    `POST /_config/sepa_debits/{payment_intent}/release` or LOCALSTRIPE_SEPA_DELAY_SECONDS (default
    180, Stripe's "after at least three minutes"); `GET /_config/sepa_debits` lists the held ones.
    Failures carry Stripe's SEPA failure codes (generic_could_not_process, insufficient_funds).
    Timers live in memory: after a restart a debit left pending starts its wait again;
  - PaymentMethods: Stripe's billing_details shape (every key), no constant mandate_reference in
    sepa_debit, `GET /v1/payment_methods?customer=…` lists sepa_debit ones too (type optional).
Anything else is upstream's behaviour: read its resources.py.
"""

import argparse
import asyncio
import html
import json
import os
import logging
import pickle
import random
import string
import sys
import time

from aiohttp import web

from localstripe import resources
from localstripe.errors import UserError
from localstripe.webhooks import schedule_webhook
from localstripe.resources import BalanceTransaction, Charge, Customer, \
    Event, PaymentIntent, PaymentMethod, SetupIntent, StripeObject, store, \
    try_convert_to_bool, try_convert_to_int

STATE_FILE = None
# builtin type, for functions whose Stripe parameter is named `type`
_type = type


def load_state(self):
    if STATE_FILE is None:
        return
    try:
        with open(STATE_FILE, 'rb') as f:
            old = pickle.load(f)
            self.update(old)
    except FileNotFoundError:
        pass


def dump_state(self):
    if STATE_FILE is None:
        return
    with open(STATE_FILE + '.tmp', 'wb') as f:
        pickle.dump(dict(self), f, protocol=pickle.HIGHEST_PROTOCOL)
    os.replace(STATE_FILE + '.tmp', STATE_FILE)


resources.Store.try_load_from_disk = load_state
resources.Store.dump_to_disk = dump_state

_user_error_init = UserError.__init__


def user_error_init(self, code, message=None, contents=None):
    _user_error_init(self, code, message, contents)
    # Stripe answers a refused card 402 with the type card_error (upstream: invalid_request_error)
    if code == 402:
        self.body['error']['type'] = 'card_error'


UserError.__init__ = user_error_init

_pi_init = PaymentIntent.__init__


def pi_init(self, description=None, setup_future_usage=None,
            automatic_payment_methods=None, allowed_payment_method_types=None,
            **kwargs):
    if allowed_payment_method_types is not None:
        if type(allowed_payment_method_types) is not list:
            raise UserError(400, 'Bad request')
        kwargs.setdefault('payment_method_types', allowed_payment_method_types)
    if setup_future_usage not in (None, 'off_session', 'on_session'):
        raise UserError(400, 'Bad request')
    if description is not None and type(description) is not str:
        raise UserError(400, 'Bad request')
    if automatic_payment_methods is not None and \
            type(automatic_payment_methods) is not dict:
        raise UserError(400, 'Bad request')
    _pi_init(self, **kwargs)
    self.description = description
    self.setup_future_usage = setup_future_usage
    self.automatic_payment_methods = automatic_payment_methods


PaymentIntent.__init__ = pi_init

_pi_on_success = PaymentIntent._on_success


def pi_on_success(self):
    if getattr(self, 'setup_future_usage', None) and self.customer and \
            self.payment_method and self.payment_method.startswith('pm_'):
        PaymentMethod._api_retrieve(self.payment_method).customer = \
            self.customer
    _pi_on_success(self)


PaymentIntent._on_success = pi_on_success

_pi_confirm = PaymentIntent._api_confirm


def pi_confirm(id, payment_method=None, mandate=None, mandate_data=None,
               off_session=None, **kwargs):
    if type(id) is not str or not id.startswith('pi_'):
        raise UserError(400, 'Bad request')
    off_session = try_convert_to_bool(off_session)
    if off_session is not None and type(off_session) is not bool:
        raise UserError(400, 'Bad request')
    obj = PaymentIntent._api_retrieve(id)
    if payment_method is not None:
        if type(payment_method) is not str:
            raise UserError(400, 'Bad request')
        # requires_action: the customer left the 3-D Secure step and pays
        # with another card, which Stripe allows
        if obj.status not in ('requires_payment_method',
                              'requires_confirmation', 'requires_action'):
            raise UserError(400, 'This PaymentIntent can no longer be '
                            'confirmed (status %s)' % obj.status,
                            {'code': 'payment_intent_unexpected_state'})
        pm = PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
    elif obj.payment_method:
        pm = PaymentMethod._api_retrieve(obj.payment_method)
    else:
        pm = None
    # checked before anything changes: a refused confirmation leaves the
    # PaymentIntent as it was
    plan = mandate_plan(pm, mandate, mandate_data,
                        getattr(obj, '_given_types', None)) if pm else None
    if payment_method is not None:
        obj.payment_method = payment_method
        obj.latest_charge = None  # a new attempt after a refused card
        obj.next_action = None
    obj._mandate_plan = plan
    try:
        return _pi_confirm(id, **kwargs)
    finally:
        obj._mandate_plan = None


for i, (method, url, func) in enumerate(resources.extra_apis):
    if url == '/v1/payment_intents/{id}/confirm':
        resources.extra_apis[i] = (method, url, pi_confirm)


# --- SEPA Direct Debit: mandates, settlement days later, test IBANs --------

# Stripe's SEPA test account numbers (docs.stripe.com/payments/sepa-debit/
# accept-a-payment, "Test your integration"): how the debit ends, whether it
# is held (Stripe: "after at least three minutes"), the Charge's failure_code.
# Any other IBAN succeeds half a second after submission.
SEPA_TEST_IBANS = {
    'FR1420041010050500013M02606': ('succeeded', False, None),
    'FR3020041010050500013M02609': ('succeeded', True, None),
    'FR8420041010050500013M02607': ('failed', False,
                                    'generic_could_not_process'),
    'FR7920041010050500013M02600': ('failed', True,
                                    'generic_could_not_process'),
    'FR9720041010050000002222227': ('failed', False, 'insufficient_funds'),
    'DE89370400440532013000': ('succeeded', False, None),
    'DE08370400440532013003': ('succeeded', True, None),
    'DE62370400440532013001': ('failed', False, 'generic_could_not_process'),
    'DE78370400440532013004': ('failed', True, 'generic_could_not_process'),
    'DE65370400440002222227': ('failed', False, 'insufficient_funds'),
}
SEPA_FAILURE_MESSAGES = {
    'generic_could_not_process': 'This payment could not be processed.',
    'insufficient_funds': "The customer's account has insufficient funds "
                          "to cover this payment.",
}
SEPA_SETTLE_SECONDS = 0.5
# how long a held debit (…M02609, …M02600) waits unless released first;
# set in main() from LOCALSTRIPE_SEPA_DELAY_SECONDS
SEPA_DELAY_SECONDS = 180.0
# where the mandate pages are served (Mandate.payment_method_details
# .sepa_debit.url); set in main()
PUBLIC_BASE = 'http://127.0.0.1:8420'


def is_sepa(pm):
    return isinstance(pm, PaymentMethod) and pm.type == 'sepa_debit'


def sepa_outcome(pm):
    return SEPA_TEST_IBANS.get(pm._sepa_debit_iban, ('succeeded', False, None))


_pm_init = PaymentMethod.__init__


def pm_init(self, type=None, billing_details=None, **kwargs):
    _pm_init(self, type=type, billing_details=billing_details, **kwargs)
    # Stripe's shape: every key present (upstream keeps only those sent)
    given = self.billing_details
    address = given.get('address')
    address = address if isinstance(address, dict) else {}
    self.billing_details = {
        'address': {k: address.get(k) for k in (
            'city', 'country', 'line1', 'line2', 'postal_code', 'state')},
        'email': given.get('email'),
        'name': given.get('name'),
        'phone': given.get('phone'),
    }
    if self.type == 'sepa_debit':
        # Stripe's PaymentMethod has no mandate fields: mandates are their
        # own objects (upstream: one constant mandate_reference for all)
        self.sepa_debit = {
            'bank_code': self.sepa_debit['bank_code'],
            'branch_code': None,
            'country': self.sepa_debit['country'],
            'fingerprint': self.sepa_debit['fingerprint'],
            'generated_from': {'charge': None, 'setup_attempt': None},
            'last4': self.sepa_debit['last4'],
        }


PaymentMethod.__init__ = pm_init

_pm_charging_is_declined = PaymentMethod._charging_is_declined


def pm_charging_is_declined(self):
    if self.type == 'sepa_debit':
        return sepa_outcome(self)[0] == 'failed'
    return _pm_charging_is_declined(self)


PaymentMethod._charging_is_declined = pm_charging_is_declined


def pm_list_all(cls, url, customer=None, type=None, limit=None,
                starting_after=None):
    # upstream lists cards only, and only with type=card
    try:
        assert _type(customer) is str and customer.startswith('cus_')
        assert type in (None, 'card', 'sepa_debit')
    except AssertionError:
        raise UserError(400, 'Bad request')
    Customer._api_retrieve(customer)  # 404 if unknown
    li = super(PaymentMethod, cls)._api_list_all(
        url, limit=limit, starting_after=starting_after)
    li._list = [pm for pm in li._list if pm.customer == customer and
                (type is None or pm.type == type)]
    return li


PaymentMethod._api_list_all = classmethod(pm_list_all)


class Mandate(StripeObject):
    """Stripe's Mandate: the customer's acceptance of SEPA debits, created
    when a PaymentIntent or a SetupIntent is confirmed with mandate_data."""
    object = 'mandate'
    _id_prefix = 'mandate_'

    def __init__(self, payment_method, customer_acceptance):
        reference = new_mandate_reference()
        super().__init__()
        self.customer_acceptance = customer_acceptance
        self.multi_use = {}
        self.payment_method = payment_method
        self.payment_method_details = {
            'type': 'sepa_debit',
            'sepa_debit': {'reference': reference,
                           'url': '%s/mandates/%s' % (PUBLIC_BASE, self.id)},
        }
        self.status = 'active'
        self.type = 'multi_use'

    @classmethod
    def _api_create(cls, **data):
        raise UserError(405, 'Method Not Allowed')


def new_mandate_reference():
    used = {m.payment_method_details['sepa_debit']['reference']
            for key, m in store.items() if key.startswith('mandate:')}
    while True:
        reference = ''.join(random.choice(string.ascii_uppercase +
                                          string.digits) for _ in range(16))
        if reference not in used:
            return reference


def active_mandate_of(pm_id):
    mandates = [m for key, m in store.items() if key.startswith('mandate:')
                and m.payment_method == pm_id and m.status == 'active']
    return max(mandates, key=lambda m: m.created) if mandates else None


def mandate_acceptance(mandate_data):
    """mandate_data as Stripe takes it → the new Mandate's
    customer_acceptance (400 otherwise)."""
    try:
        assert type(mandate_data) is dict
        given = mandate_data.get('customer_acceptance')
        assert type(given) is dict
        kind = given.get('type')
        assert kind in ('online', 'offline')
        accepted_at = try_convert_to_int(
            given.get('accepted_at', int(time.time())))
        assert type(accepted_at) is int
        acceptance = {'accepted_at': accepted_at, 'type': kind}
        if kind == 'online':
            online = given.get('online')
            assert type(online) is dict
            assert type(online.get('ip_address')) is str
            assert type(online.get('user_agent')) is str
            acceptance['online'] = {'ip_address': online['ip_address'],
                                    'user_agent': online['user_agent']}
        else:
            acceptance['offline'] = {}
    except AssertionError:
        raise UserError(400, 'Invalid mandate_data: customer_acceptance '
                        'needs type online with online[ip_address] and '
                        'online[user_agent], or type offline',
                        {'code': 'parameter_invalid_empty',
                         'param': 'mandate_data'})
    return acceptance


def mandate_plan(pm, mandate, mandate_data, allowed_types):
    """Checks a confirmation with `pm` before anything changes. Answers the
    mandate the debit uses: an existing Mandate, the customer_acceptance of
    a new one, or None (a card)."""
    if allowed_types is not None and pm.type not in allowed_types:
        raise UserError(400, 'The PaymentMethod type %s is not in this '
                        "intent's payment_method_types (%s)"
                        % (pm.type, ', '.join(allowed_types)),
                        {'code': 'payment_intent_incompatible_payment_method',
                         'param': 'payment_method'})
    if mandate is not None:
        found = store.get('mandate:' + mandate) \
            if type(mandate) is str else None
        if found is None:
            raise UserError(400, 'No such mandate: %r' % (mandate,),
                            {'code': 'resource_missing', 'param': 'mandate'})
        if found.payment_method != pm.id or found.status != 'active':
            raise UserError(400, 'The mandate %s is not an active mandate of '
                            'the PaymentMethod %s' % (mandate, pm.id),
                            {'code': 'mandate_invalid', 'param': 'mandate'})
        return found
    if not is_sepa(pm):
        return None
    for field in ('name', 'email'):
        if not pm.billing_details.get(field):
            raise UserError(400, 'A SEPA Direct Debit PaymentMethod needs '
                            'billing_details[%s]' % field,
                            {'code': 'parameter_missing',
                             'param': 'billing_details[%s]' % field})
    if mandate_data is not None:
        return mandate_acceptance(mandate_data)
    existing = active_mandate_of(pm.id)
    if existing is None:
        raise UserError(400, 'A SEPA Direct Debit needs a mandate: send '
                        "mandate_data (the customer's acceptance) or mandate",
                        {'code': 'parameter_missing',
                         'param': 'mandate_data'})
    return existing


def apply_mandate_plan(plan, pm):
    if plan is None or isinstance(plan, Mandate):
        return plan
    return Mandate(payment_method=pm.id, customer_acceptance=plan)


_pi_init_base = PaymentIntent.__init__


def pi_init_types(self, payment_method_types=None, **kwargs):
    given = payment_method_types if payment_method_types is not None \
        else kwargs.get('allowed_payment_method_types')
    if given is not None and (type(given) is not list or
                              not all(type(t) is str for t in given)):
        raise UserError(400, 'Bad request')
    if payment_method_types is not None:
        kwargs['payment_method_types'] = payment_method_types
    _pi_init_base(self, **kwargs)
    # upstream drops them; Stripe answers them and refuses another type
    self._given_types = given
    self.payment_method_types = given or ['card']
    self.allowed_payment_method_types = kwargs.get(
        'allowed_payment_method_types')
    self.mandate = None


PaymentIntent.__init__ = pi_init_types


def pi_api_create(cls, confirm=None, off_session=None, mandate=None,
                  mandate_data=None, **data):
    confirm = try_convert_to_bool(confirm)
    off_session = try_convert_to_bool(off_session)
    try:
        if confirm is not None:
            assert type(confirm) is bool
        if off_session is not None:
            assert type(off_session) is bool
            assert confirm is True
    except AssertionError:
        raise UserError(400, 'Bad request')
    if (mandate is not None or mandate_data is not None) and not confirm:
        raise UserError(400, 'mandate and mandate_data go with confirm=true',
                        {'code': 'parameter_unknown', 'param': 'mandate'})
    plan = None
    if confirm and type(data.get('payment_method')) is str:
        types = data.get('payment_method_types',
                         data.get('allowed_payment_method_types'))
        pm = PaymentMethod._api_retrieve(data['payment_method'])
        plan = mandate_plan(pm, mandate, mandate_data,
                            types if type(types) is list else None)
    obj = cls(**data)
    if confirm:
        obj._mandate_plan = plan
        try:
            obj._confirm(on_failure_now=obj._report_failure)
        finally:
            obj._mandate_plan = None
    return obj


PaymentIntent._api_create = classmethod(pi_api_create)

_pi_confirm_charge = PaymentIntent._confirm


def pi_confirm_charge(self, on_failure_now):
    pm = PaymentMethod._api_retrieve(self.payment_method)
    plan = getattr(self, '_mandate_plan', None)
    if plan is None and is_sepa(pm):
        plan = active_mandate_of(pm.id)  # paths of upstream's own (invoices)
    mandate = apply_mandate_plan(plan, pm)
    self.mandate = mandate.id if mandate else None
    if is_sepa(pm) and getattr(self, 'setup_future_usage', None) and \
            self.customer:
        # Stripe attaches a SEPA PaymentMethod once the debit is submitted
        pm.customer = self.customer
    _pi_confirm_charge(self, on_failure_now)
    if is_sepa(pm) and self.status == 'processing':
        schedule_webhook(Event('payment_intent.processing', self))


PaymentIntent._confirm = pi_confirm_charge


def pi_create_charge(self, on_failure_now):
    # upstream's, with the mandate handed to the Charge before it settles
    if self.status != 'requires_confirmation':
        raise UserError(400, 'Bad request')
    charge = Charge(amount=self.amount, currency=self.currency,
                    customer=self.customer, source=self.payment_method,
                    capture=(self.capture_method != 'manual'))
    charge.payment_intent = self.id
    charge._mandate = getattr(self, 'mandate', None)
    self.latest_charge = charge
    charge._initialize_charge(self._on_success, on_failure_now,
                              self._report_async_failure)


PaymentIntent._create_charge = pi_create_charge


def charge_payment_method_details(self):
    pm = store.get('payment_method:' + (self.payment_method or ''))
    if is_sepa(pm):
        details = {k: pm.sepa_debit.get(k) for k in (
            'bank_code', 'branch_code', 'country', 'fingerprint', 'last4')}
        details['mandate'] = getattr(self, '_mandate', None)
        return {'type': 'sepa_debit', 'sepa_debit': details}
    if isinstance(pm, PaymentMethod) and pm.type == 'card':
        return {'type': 'card', 'card': {k: pm.card.get(k) for k in (
            'brand', 'country', 'exp_month', 'exp_year', 'fingerprint',
            'funding', 'last4')}}
    return None


Charge.payment_method_details = property(charge_payment_method_details)

# debits waiting for their release: PaymentIntent id (or Charge id) → release
_held_debits = {}

_charge_initialize = Charge._initialize_charge


def charge_initialize(self, on_success=None, on_failure_now=None,
                      on_failure_later=None):
    pm = store.get('payment_method:' + (self.payment_method or ''))
    if not is_sepa(pm):
        return _charge_initialize(self, on_success, on_failure_now,
                                  on_failure_later)
    # upstream marks a SEPA charge succeeded at once (only its webhook
    # waits); at Stripe it is pending (PaymentIntent processing) until it
    # settles
    self.status = 'pending'
    self.captured = True
    schedule_settlement(self, pm, on_success, on_failure_later)


Charge._initialize_charge = charge_initialize


def schedule_settlement(charge, pm, on_success, on_failure_later):
    outcome, held, failure_code = sepa_outcome(pm)

    def settle():
        if charge.status != 'pending':
            return
        if outcome == 'succeeded':
            txn = BalanceTransaction(
                amount=charge.amount, currency=charge.currency,
                description=charge.description, exchange_rate=1.0,
                reporting_category='charge', source=charge.id, type='charge')
            charge.balance_transaction = txn.id
            charge.status = 'succeeded'
            if on_success:
                on_success()
        else:
            charge.status = 'failed'
            charge.failure_code = failure_code
            charge.failure_message = SEPA_FAILURE_MESSAGES[failure_code]
            if on_failure_later:
                on_failure_later()
        store.dump_to_disk()

    loop = asyncio.get_event_loop()
    if not held:
        loop.call_later(SEPA_SETTLE_SECONDS, settle)
        return
    key = charge.payment_intent or charge.id

    def release():
        entry = _held_debits.pop(key, None)
        if entry is not None:
            entry['timer'].cancel()
            settle()

    _held_debits[key] = {'release': release,
                         'timer': loop.call_later(SEPA_DELAY_SECONDS, release)}


async def resume_pending_debits(app):
    # timers do not survive a restart: debits left pending in the state
    # file start again (a held one waits its full delay again)
    for key, charge in list(store.items()):
        if not key.startswith('charge:') or charge.status != 'pending':
            continue
        pm = store.get('payment_method:' + (charge.payment_method or ''))
        if not is_sepa(pm):
            continue
        intent = store.get('payment_intent:' + (charge.payment_intent or ''))
        schedule_settlement(
            charge, pm, intent._on_success if intent else None,
            intent._report_async_failure if intent else None)


_si_init = SetupIntent.__init__


def si_init(self, allowed_payment_method_types=None, **kwargs):
    # what stripe-node sends since API version 2026-10-28 (as for
    # PaymentIntents); the older payment_method_types still works
    if allowed_payment_method_types is not None:
        kwargs.setdefault('payment_method_types',
                          allowed_payment_method_types)
    _si_init(self, **kwargs)
    self.allowed_payment_method_types = allowed_payment_method_types
    self.mandate = None
    self.single_use_mandate = None


SetupIntent.__init__ = si_init

_si_confirm = SetupIntent._api_confirm


def si_confirm(id, mandate_data=None, **kwargs):
    if type(id) is not str or not id.startswith('seti_'):
        raise UserError(400, 'Bad request')
    obj = SetupIntent._api_retrieve(id)
    # with payment_method_data the PaymentMethod is created by upstream's
    # confirmation (the browser's card form): not checked here
    pm_id = None if kwargs.get('payment_method_data') is not None else \
        kwargs.get('payment_method') or obj.payment_method
    pm = PaymentMethod._api_retrieve(pm_id) if type(pm_id) is str else None
    plan = None
    if pm is not None:
        if pm.type not in obj.payment_method_types:
            raise UserError(400, 'The PaymentMethod type %s is not in this '
                            "intent's payment_method_types (%s)"
                            % (pm.type, ', '.join(obj.payment_method_types)),
                            {'code': 'setup_intent_invalid_parameter',
                             'param': 'payment_method'})
        if is_sepa(pm):
            if mandate_data is None:
                raise UserError(400, 'A SEPA Direct Debit SetupIntent needs '
                                "mandate_data (the customer's acceptance)",
                                {'code': 'parameter_missing',
                                 'param': 'mandate_data'})
            plan = mandate_plan(pm, None, mandate_data, None)
    result = _si_confirm(id, **kwargs)
    pm = store.get('payment_method:' + (result.payment_method or ''))
    if result.status == 'succeeded' and isinstance(pm, PaymentMethod):
        mandate = apply_mandate_plan(plan, pm)
        if mandate is not None:
            result.mandate = mandate.id
        if result.customer:
            # Stripe attaches the PaymentMethod to the SetupIntent's customer
            pm.customer = result.customer
    return result


for i, (method, url, func) in enumerate(resources.extra_apis):
    if url == '/v1/setup_intents/{id}/confirm':
        resources.extra_apis[i] = (method, url, si_confirm)

# imported after the patches: it registers the routes of resources.extra_apis
from localstripe import server  # noqa: E402


@web.middleware
async def auth_middleware(request, handler):
    if request.method == 'GET' and request.path.startswith('/mandates/'):
        return await handler(request)  # the customer's mandate page
    if request.method == 'POST' and request.path == '/v1/payment_methods':
        data = await server.get_post_data(request, remove_auth=False)
        key = data.get('key') if data else None
        if type(key) is str and key.startswith('pk_'):
            return await handler(request)
    return await server.auth_middleware(request, handler)


_replies = {}


@web.middleware
async def idempotency_middleware(request, handler):
    key = request.headers.get('Idempotency-Key')
    if request.method != 'POST' or not key:
        return await handler(request)
    cache_key = (request.path, key)
    if cache_key in _replies:
        status, body = _replies[cache_key]
        return web.Response(status=status, body=body,
                            content_type='application/json',
                            headers={'Idempotent-Replayed': 'true'})
    try:
        response = await handler(request)
    except UserError as e:
        response = e.to_response()
    if response.status < 500:
        _replies[cache_key] = (response.status, response.body)
    return response


def json_response(body, status=200):
    return web.Response(status=status, text=json.dumps(body) + '\n',
                        content_type='application/json')


server.app.router.add_get('/v1/mandates/{id}',
                          server.api_retrieve(Mandate, '/v1/mandates/{id}'))


async def mandate_page(request):
    """The page a Mandate's url names: what the customer accepted."""
    mandate = store.get('mandate:' + request.match_info['id'])
    if mandate is None:
        raise web.HTTPNotFound()
    pm = store.get('payment_method:' + mandate.payment_method)
    acceptance = mandate.customer_acceptance
    rows = [
        ('Reference', mandate.payment_method_details['sepa_debit']
         ['reference']),
        ('Account holder', pm.billing_details.get('name') if pm else ''),
        ('IBAN', '…' + pm.sepa_debit['last4'] if pm else ''),
        ('Accepted', time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime(
            acceptance['accepted_at']))),
        ('Status', mandate.status),
    ]
    body = ''.join('<tr><th>%s</th><td>%s</td></tr>' % (
        html.escape(k), html.escape(str(v or ''))) for k, v in rows)
    return web.Response(
        text='<!doctype html><title>SEPA Direct Debit mandate</title>'
             '<h1>SEPA Direct Debit mandate (localstripe)</h1>'
             '<table>%s</table>' % body, content_type='text/html')


async def list_held_debits(request):
    return json_response({'data': sorted(_held_debits)})


async def release_held_debit(request):
    entry = _held_debits.get(request.match_info['id'])
    if entry is None:
        raise UserError(404, 'No held SEPA debit for %s'
                        % request.match_info['id'])
    entry['release']()
    return json_response({'released': True})


# test and development controls of the SEPA debits held by the test IBANs
# …M02609 / …M02600 (not Stripe routes; no key, like upstream's /_config)
server.app.router.add_get('/mandates/{id}', mandate_page)
server.app.router.add_get('/_config/sepa_debits', list_held_debits)
server.app.router.add_post('/_config/sepa_debits/{id}/release',
                           release_held_debit)
server.app.on_startup.append(resume_pending_debits)

middlewares = server.app.middlewares
middlewares[middlewares.index(server.auth_middleware)] = auth_middleware
middlewares.append(idempotency_middleware)


def main():
    global STATE_FILE, SEPA_DELAY_SECONDS, PUBLIC_BASE
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--state-file')
    parser.add_argument('--host', default='127.0.0.1')
    args = parser.parse_args()
    STATE_FILE = args.state_file
    raw = os.environ.get('LOCALSTRIPE_SEPA_DELAY_SECONDS', '180')
    try:
        SEPA_DELAY_SECONDS = float(raw)
        assert SEPA_DELAY_SECONDS >= 0
    except (ValueError, AssertionError):
        sys.exit('LOCALSTRIPE_SEPA_DELAY_SECONDS: a number of seconds >= 0 '
                 '(got %r)' % raw)
    PUBLIC_BASE = 'http://%s:%d' % (
        '127.0.0.1' if args.host in ('0.0.0.0', '::') else args.host,
        args.port)
    store.try_load_from_disk()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    web.run_app(server.app, host=args.host, port=args.port,
                access_log=None, print=None)


if __name__ == '__main__':
    main()
