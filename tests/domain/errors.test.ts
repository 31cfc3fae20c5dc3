import { AppError, errorStatus } from '../../domain/errors';

describe('error codes', () => {
  it('every code maps to an HTTP error status', () => {
    for (const [code, status] of Object.entries(errorStatus)) {
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
      expect(code).toMatch(/^[A-Z][A-Z0-9_]+$/);
    }
  });

  it('an AppError carries the status of its code', () => {
    expect(new AppError('ACCOUNT_EXISTS', 'x').status).toBe(409);
    expect(new AppError('BASE_FORBIDDEN', 'x').status).toBe(403);
  });
});
