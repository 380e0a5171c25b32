import type { LookupAddress } from 'node:dns';
import { AttemptAdapters } from '../../activities/attempt-adapters';
import type { ChatRequest } from '../../src/contract/chat';
import { EgressPolicy } from '../../src/net/egress-policy';
import { ProviderDirectory } from '../../src/providers/provider-directory';
import { createUpstreamDispatcher, sendUpstream } from '../../src/providers/upstream-http';
import { OpenAICompatibleEmulator } from '../emulators/openai-compatible-emulator';
import { captureProviderError } from '../support/provider-test-helpers';

const API_KEY = 'sk-egress-test-key-0001';
const HELLO: ChatRequest = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };

/** A resolver that answers what a rebinding DNS server would: a public-looking name that points at loopback. */
const rebindingResolver = (answers: Record<string, LookupAddress[]>) =>
  (hostname: string, _options: unknown, callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => {
    const addresses = answers[hostname];
    if (addresses) setImmediate(() => callback(null, addresses));
    else setImmediate(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []));
  };

describe('EgressPolicy', () => {
  describe('refusal', () => {
    const policy = new EgressPolicy();
    it.each([
      ['127.0.0.1', 'loopback'], ['10.1.2.3', 'private (RFC 1918)'], ['172.20.0.1', 'private (RFC 1918)'], ['192.168.1.1', 'private (RFC 1918)'],
      ['100.100.100.200', 'shared address space (CGNAT)'], ['169.254.169.254', 'link-local (cloud metadata)'], ['0.0.0.0', 'this network'],
      ['::1', 'loopback'], ['fd00:ec2::254', 'unique local (cloud metadata)'], ['fe80::1', 'link-local'], ['::ffff:127.0.0.1', 'loopback'],
      ['::ffff:a9fe:a9fe', 'link-local (cloud metadata)'], ['64:ff9b::7f00:1', 'NAT64 (embeds an IPv4 address)'],
    ])('refuses %s (%s) by default', (address, range) => {
      expect(policy.refusal(address)).toBe(range);
    });

    it.each(['8.8.8.8', '104.18.0.1', '2606:4700::1111'])('allows the public address %s', (address) => {
      expect(policy.refusal(address)).toBeUndefined();
    });

    it("lets the operator's allow-list open exactly the ranges it names", () => {
      const allowing = new EgressPolicy('127.0.0.1/32, 10.0.0.0/8,fd00:ec2::254,http');
      expect(allowing.allowHttp).toBe(true);
      expect(allowing.refusal('127.0.0.1')).toBeUndefined();
      expect(allowing.refusal('10.200.0.1')).toBeUndefined();
      expect(allowing.refusal('fd00:ec2::254')).toBeUndefined();
      expect(allowing.refusal('127.0.0.2')).toBe('loopback');
      expect(allowing.refusal('169.254.169.254')).toBe('link-local (cloud metadata)');
      expect(new EgressPolicy().allowHttp).toBe(false);
    });

    it.each(['10.0.0.0/33', 'nonsense', '10.0.0.0/8/1', 'fd00::/129', 'https'])('refuses the allow-list entry %j, naming it', (entry) => {
      expect(() => new EgressPolicy(entry)).toThrow(`'${entry}'`);
    });
  });

  describe('urlProblem (registration)', () => {
    const policy = new EgressPolicy('', rebindingResolver({ 'internal.example.com': [{ address: '10.0.0.9', family: 4 }], 'api.example.com': [{ address: '93.184.216.34', family: 4 }] }));
    it.each([
      ['http://api.example.com/v1', /https/],
      ['https://127.0.0.1:8000/v1', /loopback/],
      ['https://[::1]/v1', /loopback/],
      ['https://169.254.169.254/latest', /metadata/],
      ['https://[fd00:ec2::254]/', /unique local/],
      ['https://localhost:8443/v1', /loopback/],
      ['https://metadata.google.internal/computeMetadata/v1', /loopback|metadata/],
      ['https://internal.example.com/v1', /private/],
    ])('refuses %s', async (url, problem) => {
      expect(await policy.urlProblem(url)).toMatch(problem);
    });

    it('accepts an https URL whose name resolves to public addresses, or does not resolve yet', async () => {
      expect(await policy.urlProblem('https://api.example.com/v1')).toBeUndefined();
      expect(await policy.urlProblem('https://not-yet.example.com/v1')).toBeUndefined();
    });
  });

  describe('at connect time', () => {
    let emulator: OpenAICompatibleEmulator;
    beforeAll(async () => { emulator = await new OpenAICompatibleEmulator({ flavour: 'byoc', apiKey: API_KEY }).start(); });
    afterAll(async () => { await emulator.close(); });
    beforeEach(() => emulator.reset());

    const port = () => new URL(emulator.baseUrl).port;
    // The name passed registration (it resolved to a public address then); now it resolves to loopback.
    const resolver = rebindingResolver({ 'rebind.example.com': [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }] });

    const send = async (policy: EgressPolicy, url: string) => {
      const dispatcher = createUpstreamDispatcher({ egress: policy });
      try {
        const response = await sendUpstream({ provider: 'lab', url, method: 'GET', headers: { authorization: `Bearer ${API_KEY}` }, dispatcher });
        await response.body.dump();
        return response.status;
      } finally {
        await dispatcher.destroy();
      }
    };

    it('refuses a name that resolves to a loopback address (DNS rebinding) before connecting, as egress_refused', async () => {
      const error = await send(new EgressPolicy('http', resolver), `http://rebind.example.com:${port()}/v1/models`).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ kind: 'egress_refused', provider: 'lab' });
      expect((error as Error).message).toContain('127.0.0.1');
      expect(emulator.requests).toHaveLength(0);
    });

    it('refuses a literal loopback address and localhost (real DNS) when not allowed', async () => {
      for (const host of ['127.0.0.1', 'localhost']) {
        await expect(send(new EgressPolicy('http'), `http://${host}:${port()}/v1/models`)).rejects.toMatchObject({ kind: 'egress_refused' });
      }
      expect(emulator.requests).toHaveLength(0);
    });

    it('connects when the operator allows the range', async () => {
      expect(await send(new EgressPolicy('http,127.0.0.1/32', resolver), `http://rebind.example.com:${port()}/v1/models`)).toBe(200);
      expect(await send(new EgressPolicy('http,127.0.0.1/32'), `http://127.0.0.1:${port()}/v1/models`)).toBe(200);
      expect(emulator.requests).toHaveLength(2);
    });

    describe("a tenant's endpoint through AttemptAdapters (the attempt's adapter)", () => {
      const attempt = { targetIndex: 0, execution_profile: 'byoc_epp' as const, provider: 'lab', model: 'm', model_revision: '1', region: 'default', role: 'primary' as const };
      const generate = async (policy: EgressPolicy) => {
        const adapters = new AttemptAdapters(new ProviderDirectory(), policy);
        try {
          return await adapters.forAttempt(attempt, { baseUrl: emulator.baseUrl, flavour: 'byoc_epp' }).generate(HELLO, { model: 'm', credential: { apiKey: API_KEY } });
        } finally {
          await adapters.close();
        }
      };

      it('refuses plain http and loopback by default, without a request reaching the endpoint', async () => {
        expect(await captureProviderError(generate(new EgressPolicy()))).toMatchObject({ kind: 'egress_refused' });
        expect(await captureProviderError(generate(new EgressPolicy('http')))).toMatchObject({ kind: 'egress_refused' });
        expect(emulator.requests).toHaveLength(0);
      });

      it('serves once the operator allows http to loopback', async () => {
        const result = await generate(new EgressPolicy('http,127.0.0.1/32'));
        expect(result.choices[0]?.message.content).toEqual(expect.any(String));
        expect(emulator.requests).toHaveLength(1);
      });
    });
  });
});
