/**
 * A local peer that answers like the VIES REST API (`POST /check-vat-number`): the development default when
 * no VIES_URL is given, and the VIES of the tests. Every number is valid unless said otherwise; a number can be
 * made invalid, and the service can be made unavailable for the next N requests (503, or HTTP 200 with an
 * `MS_UNAVAILABLE` error wrapper, the two ways VIES says "later").
 */
import http from 'node:http';

export type ViesPeerAnswer = 'VALID' | 'INVALID';

export interface ViesPeer {
  url: string;
  /** requests received, in order (country code + number) */
  requests(): { countryCode: string; vatNumber: string; requesterNumber?: string }[];
  setAnswer(vatNumber: string, answer: ViesPeerAnswer): void;
  /** the next `count` requests fail the way VIES does when a register is down */
  failNext(count: number, how?: '503' | 'MS_UNAVAILABLE'): void;
  stop(): Promise<void>;
}

export async function startViesPeer(port = 0): Promise<ViesPeer> {
  const answers = new Map<string, ViesPeerAnswer>();
  const received: { countryCode: string; vatNumber: string; requesterNumber?: string }[] = [];
  let failures: { count: number; how: '503' | 'MS_UNAVAILABLE' } = { count: 0, how: '503' };
  let consultations = 0;

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.method !== 'POST' || !req.url?.endsWith('/check-vat-number')) return reply(404, {});
      let body: { countryCode?: string; vatNumber?: string; requesterNumber?: string };
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        return reply(400, { actionSucceed: false, errorWrappers: [{ error: 'INVALID_INPUT' }] });
      }
      const countryCode = body.countryCode ?? '';
      const vatNumber = body.vatNumber ?? '';
      received.push({ countryCode, vatNumber, requesterNumber: body.requesterNumber });
      if (failures.count > 0) {
        failures.count -= 1;
        if (failures.how === '503') return reply(503, { message: 'Service Unavailable' });
        return reply(200, {
          actionSucceed: false,
          errorWrappers: [{ error: 'MS_UNAVAILABLE', message: 'The member state service is unavailable' }],
        });
      }
      const valid = answers.get(`${countryCode}${vatNumber}`) !== 'INVALID';
      consultations += 1;
      reply(200, {
        countryCode,
        vatNumber,
        requestDate: new Date().toISOString(),
        valid,
        requestIdentifier: body.requesterNumber ? `WAPI${String(consultations).padStart(12, '0')}` : '',
        name: valid ? 'LOCAL VIES PEER' : '---',
        address: valid ? '---' : '---',
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${address.port}`,
    requests: () => [...received],
    setAnswer: (vatNumber, answer) => void answers.set(vatNumber, answer),
    failNext: (count, how = '503') => void (failures = { count, how }),
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
