import { parseImportDate, parseV15Csv, validateImportRows } from '../../domain/v15-import';

const good = {
  baseId: '82520020025896075',
  holder: 'Garage Martin',
  email: 'admin@garage-martin.example.fr',
  edition: 'ENTERPRISE',
  connections: 3,
  endDate: '2027-09-30',
};

describe('v15 import rows', () => {
  it('accepts a complete row, mode LOCAL by default', () => {
    const { rows, errors } = validateImportRows([{ line: 1, value: good }]);
    expect(errors).toEqual([]);
    expect(rows[0]!.row).toMatchObject({ ...good, mode: 'LOCAL' });
  });

  it('reports each bad row with its line and why, and keeps the good ones', () => {
    const { rows, errors } = validateImportRows([
      { line: 2, value: good },
      { line: 3, value: { ...good, baseId: '1234' } },
      { line: 4, value: { ...good, baseId: '82520020025896076', connections: 0 } },
      { line: 5, value: { ...good, baseId: '82520020025896077', edition: 'PREMIUM', endDate: '2027-02-30' } },
      { line: 6, value: { ...good } },
      { line: 7, value: 'not an object' },
    ]);
    expect(rows.map((r) => r.line)).toEqual([2]);
    expect(errors).toEqual([
      { line: 3, baseId: '1234', reason: expect.stringContaining('baseId: a base ID is exactly 17 digits') },
      { line: 4, baseId: '82520020025896076', reason: expect.stringContaining('connections') },
      { line: 5, baseId: '82520020025896077', reason: expect.stringMatching(/edition.*endDate/) },
      { line: 6, baseId: good.baseId, reason: 'base ID already given on line 2' },
      { line: 7, reason: expect.any(String) },
    ]);
  });

  it('says what is wrong with a number of connections: not a whole number, 0, too many', () => {
    const reasons = [0, 2.5, 1001, '0'].map(
      (connections) => validateImportRows([{ line: 1, value: { ...good, connections } }]).errors[0]?.reason,
    );
    expect(reasons).toEqual([
      'connections: at least 1 connection (0 is not a licence)',
      'connections: a whole number of connections',
      'connections: at most 1000 connections',
      'connections: at least 1 connection (0 is not a licence)',
    ]);
  });

  it('reads French dates and rejects impossible ones', () => {
    expect(parseImportDate('30/09/2027')).toBe('2027-09-30');
    expect(parseImportDate('1/2/2028')).toBe('2028-02-01');
    expect(parseImportDate('31/02/2027')).toBeUndefined();
    expect(parseImportDate('2027-9-30')).toBeUndefined();
  });
});

describe('v15 CSV', () => {
  it('reads a header in any order and case, semicolons, quotes and a byte-order mark', () => {
    const csv =
      '\uFEFFEndDate;BASEID;holder;edition;connections;mode;email\r\n' +
      '30/09/2027;82520020025896075;"Garage ""Martin""; fils";enterprise;3;;\r\n' +
      '\r\n' +
      '2027-10-31;82520020025896076;Boulangerie;STANDARD;1;CLOUD;b@example.fr\r\n';
    const parsed = parseV15Csv(csv);
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(parsed.raw.map((r) => r.line)).toEqual([2, 4]);
    const { rows, errors } = validateImportRows(parsed.raw);
    expect(errors).toEqual([]);
    expect(rows[0]!.row).toEqual({
      baseId: '82520020025896075',
      holder: 'Garage "Martin"; fils',
      edition: 'ENTERPRISE',
      mode: 'LOCAL',
      connections: 3,
      endDate: '2027-09-30',
    });
    expect(rows[1]!.row).toMatchObject({ mode: 'CLOUD', email: 'b@example.fr' });
  });

  it('refuses a file without the required columns', () => {
    expect(parseV15Csv('baseId,holder\n82520020025896075,X\n')).toEqual({
      ok: false,
      reason: 'missing columns: edition, connections, endDate',
    });
    expect(parseV15Csv('baseId,owner\n')).toEqual({ ok: false, reason: 'unknown columns: owner' });
    expect(parseV15Csv('')).toEqual({ ok: false, reason: 'the file is empty' });
  });
});
