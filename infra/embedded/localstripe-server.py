"""
localstripe (PyPI, pinned in binaries.ts), started the way this project needs it. Run by
infra/embedded/localstripe.ts with the interpreter of the venv in .cache/localstripe:

    python localstripe-server.py --port P [--state-file F] [--host H]

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
Anything else is upstream's behaviour: read its resources.py.
"""

import argparse
import os
import logging
import pickle
import sys

from aiohttp import web

from localstripe import resources
from localstripe.errors import UserError
from localstripe.resources import PaymentIntent, PaymentMethod, store

STATE_FILE = None


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


def pi_confirm(id, payment_method=None, **kwargs):
    if payment_method is not None:
        if type(payment_method) is not str:
            raise UserError(400, 'Bad request')
        obj = PaymentIntent._api_retrieve(id)
        # requires_action: the customer left the 3-D Secure step and pays
        # with another card, which Stripe allows
        if obj.status not in ('requires_payment_method',
                              'requires_confirmation', 'requires_action'):
            raise UserError(400, 'This PaymentIntent can no longer be '
                            'confirmed (status %s)' % obj.status,
                            {'code': 'payment_intent_unexpected_state'})
        PaymentMethod._api_retrieve(payment_method)  # 404 if unknown
        obj.payment_method = payment_method
        obj.latest_charge = None  # a new attempt after a refused card
        obj.next_action = None
    return _pi_confirm(id, **kwargs)


for i, (method, url, func) in enumerate(resources.extra_apis):
    if url == '/v1/payment_intents/{id}/confirm':
        resources.extra_apis[i] = (method, url, pi_confirm)

# imported after the patches: it registers the routes of resources.extra_apis
from localstripe import server  # noqa: E402


@web.middleware
async def auth_middleware(request, handler):
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


middlewares = server.app.middlewares
middlewares[middlewares.index(server.auth_middleware)] = auth_middleware
middlewares.append(idempotency_middleware)


def main():
    global STATE_FILE
    parser = argparse.ArgumentParser()
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--state-file')
    parser.add_argument('--host', default='127.0.0.1')
    args = parser.parse_args()
    STATE_FILE = args.state_file
    store.try_load_from_disk()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    web.run_app(server.app, host=args.host, port=args.port,
                access_log=None, print=None)


if __name__ == '__main__':
    main()
