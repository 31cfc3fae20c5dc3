/**
 * A real headless Chromium for browser tests: Debian's package driven by playwright-core (see ENVIRONMENT),
 * the stack it drives (a harness whose app listens on a port), and the steps the payment page's and the
 * ops console's tests share: a page closed whatever happens, Stripe's test cards typed into localstripe's
 * card form, the confirmation page's states, the invoice downloaded, an ops token signed in.
 */
import fs from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';
import { createHarness, type Harness, type HarnessOptions } from './harness';

export function chromiumPath(): string {
  const candidates = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];
  const found = candidates.find((p): p is string => !!p && fs.existsSync(p));
  if (!found)
    throw new Error(
      'chromium is missing: run scripts/ensure-chromium.sh (npm test does) or set CHROMIUM_PATH',
    );
  return found;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface BrowserFixture {
  h: Harness;
  browser: Browser;
  /** where the app listens: `h.baseUrl` with localstripe, else a free port of its own */
  url: string;
  /** closes the browser, the app's port and the harness */
  close: () => Promise<void>;
}

/**
 * A harness (`options` as createHarness takes them) whose app listens on a port, and a Chromium. What
 * started is closed again when a later step fails.
 */
export async function browserFixture(options: HarnessOptions = {}): Promise<BrowserFixture> {
  const h = await createHarness(options);
  let server: Server | undefined;
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await h.close();
  };
  try {
    let url = h.baseUrl;
    if (!url) {
      server = await new Promise<Server>((resolve) => {
        const s = h.app.listen(0, '127.0.0.1', () => resolve(s));
      });
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }
    browser = await launchChromium();
    return { h, browser, url, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * The jest hooks of a test file's fixture: `start`ed before the file's tests (`use` receives it, to set the
 * file's variables), closed after them; hooks of the file declared before or after run before or after these.
 */
export function useFixture<F extends { close: () => Promise<void> }>(
  start: () => Promise<F>,
  use: (fixture: F) => void,
) {
  let fixture: F | undefined;
  beforeAll(async () => {
    fixture = await start();
    use(fixture);
  });
  afterAll(() => fixture?.close());
}

/** The payment page's stack: localstripe (payments complete, 3-D Secure, its signed webhooks) and Chromium. */
export const paymentPageFixture = () => browserFixture({ stripe: 'localstripe' });

export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 } };
export const DESKTOP: BrowserContextOptions = { viewport: { width: 1400, height: 900 } };

type PageFn<T> = (page: Page) => Promise<T>;

/** `fn` on a new page (of `options`: PHONE, DESKTOP...), closed afterwards even when `fn` fails. */
export async function withPage<T>(
  browser: Browser,
  ...args: [fn: PageFn<T>] | [options: BrowserContextOptions, fn: PageFn<T>]
): Promise<T> {
  const [options, fn] = args.length === 1 ? [{}, args[0]] : args;
  const page = await browser.newPage(options);
  try {
    return await fn(page);
  } finally {
    await page.close();
  }
}

/** Types a test card into the card form (localstripe's stand-in for the Payment Element). */
export async function fillCard(page: Page, number: string) {
  const form = page.locator('#card-element');
  await form.locator('input[placeholder="number"]').fill(number);
  await form.locator('input[placeholder="exp_month"]').fill('12');
  await form.locator('input[placeholder="exp_year"]').fill('34');
  await form.locator('input[placeholder="cvc"]').fill('123');
  await form.locator('input[placeholder="postal_code"]').fill('69006');
}

/** Types the card and presses the page's pay button. */
export async function payWithCard(page: Page, number: string) {
  await fillCard(page, number);
  await page.locator('#pay-button').click();
}

/** The payment page's state (`body[data-state]`: PAID, PROCESSING...) reached. */
export function waitForState(page: Page, state: string, timeout = 30_000): Promise<void> {
  return page.locator(`body[data-state="${state}"]`).waitFor({ timeout });
}

/** The browser sent on to the confirmation page (`/done`), which reaches `state`. */
export async function waitForDone(page: Page, state: string, timeout = 30_000) {
  await page.waitForURL(/\/done$/);
  await waitForState(page, state, timeout);
}

/** The confirmation page's invoice link clicked: the file's suggested name and its bytes. */
export async function downloadInvoice(page: Page): Promise<{ filename: string; pdf: Buffer }> {
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.locator('#invoice-link').click(),
  ]);
  return { filename: download.suggestedFilename(), pdf: fs.readFileSync(await download.path()) };
}

/** The ops console opened and an ops token given to its sign-in form. */
export async function signInToOpsConsole(page: Page, url: string, token: string) {
  await page.goto(`${url}/ops/console`);
  await page.locator('#token').fill(token);
  await page.locator('#login-form button').click();
}

/** A card PaymentMethod as the page's Stripe.js creates it, confirmed on the PaymentIntent (no browser). */
export async function confirmWithCard(h: Harness, paymentIntentId: string, number: string) {
  const method = await h.stripe.paymentMethods.create({
    type: 'card',
    card: { number, exp_month: 12, exp_year: 2034, cvc: '123' },
  });
  return h.stripe.paymentIntents.confirm(paymentIntentId, { payment_method: method.id });
}

/** localstripe's stand-in for the bank's 3-D Secure challenge, answered as Stripe.js does (no browser). */
export async function authenticate(h: Harness, paymentIntentId: string, success: boolean) {
  const intent = await h.stripe.paymentIntents.retrieve(paymentIntentId);
  const done = await fetch(
    `${h.localstripe!.apiBase}/v1/payment_intents/${intent.id}/_authenticate?success=${success}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ key: 'pk_test_harness', client_secret: intent.client_secret }),
    },
  );
  expect(done.status).toBe(200);
}
