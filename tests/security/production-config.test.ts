/**
 * A production start refuses placeholder secrets and a placeholder seller identity (docs/security.md):
 * a forgotten SELLER_SIREN would otherwise print a fake SIREN on legal invoices.
 */
import { ConfigError, loadConfig, SELLER_IDENTITY_KEYS } from '../../infra/config';

const base = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgresql://u:p@db.example.com:5432/licensing',
  TEMPORAL_ADDRESS: 'temporal.example.com:7233',
  SMTP_URL: 'smtps://u:p@smtp.example.com:465',
  APP_SECRET: 'a'.repeat(64),
  TEMPORAL_PAYLOAD_KEY: 'b'.repeat(64),
  STRIPE_SECRET_KEY: 'sk_live_abc123',
  STRIPE_WEBHOOK_SECRET: 'whsec_0123456789abcdef',
  STRIPE_PUBLISHABLE_KEY: 'pk_live_abc123',
  LICENCE_KEYS_DIR: '/etc/licensing/keys',
  LICENCE_ACTIVE_KEY_ID: '2026-1',
};

const seller = {
  SELLER_NAME: 'Vendeur Réel SA',
  SELLER_ADDRESS: '1 place Bellecour, 69002 Lyon, France',
  SELLER_SIREN: '552081317',
  SELLER_VAT_NUMBER: 'FR40552081317',
  SELLER_LEGAL_FORM: 'SA',
  SELLER_SHARE_CAPITAL: '1 000 000 €',
  SELLER_RCS_CITY: 'Lyon',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
}

describe('production configuration', () => {
  it('starts with a real seller identity', () => {
    expect(problemsOf({ ...base, ...seller })).toEqual([]);
    expect(loadConfig({ ...base, ...seller }).SELLER_SIREN).toBe('552081317');
  });

  it('refuses to start without the seller identity, naming every missing key', () => {
    const problems = problemsOf(base);
    for (const key of SELLER_IDENTITY_KEYS) expect(problems.some((p) => p.startsWith(`${key}:`))).toBe(true);
  });

  it.each(SELLER_IDENTITY_KEYS.map((k) => [k]))('refuses to start when %s alone is missing', (key) => {
    const env: Record<string, string> = { ...base, ...seller };
    delete env[key];
    expect(problemsOf(env)).toEqual([expect.stringMatching(new RegExp(`^${key}: required in production`))]);
  });

  it('refuses the placeholders of .env.example', () => {
    const problems = problemsOf({
      ...base,
      ...seller,
      SELLER_SIREN: '123456789',
      SELLER_VAT_NUMBER: 'FR32123456789',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^SELLER_SIREN: 123456789 is the example placeholder/),
      expect.stringMatching(/^SELLER_VAT_NUMBER: FR32123456789 is the example placeholder/),
    ]);
  });

  it('keeps the placeholders in development, where invoices are not legal documents', () => {
    const { NODE_ENV: _production, ...development } = base;
    expect(loadConfig(development).SELLER_SIREN).toBe('123456789');
  });
});
