import { checkUrlShape, isForbiddenAddress, resolveSafe, UnsafeUrlError } from './address-policy.js';

describe(isForbiddenAddress.name, () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.1.2.3',
    '172.16.0.1',
    '172.31.255.255',
    '192.168.1.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.1',
    '::1',
    '::',
    'fe80::1',
    'fd00:ec2::254',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe',
  ])('refuses %s', (ip) => {
    expect(isForbiddenAddress(ip)).toBe(true);
  });

  it.each(['93.184.216.34', '8.8.8.8', '172.32.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])(
    'allows the public address %s',
    (ip) => {
      expect(isForbiddenAddress(ip)).toBe(false);
    },
  );
});

describe(checkUrlShape.name, () => {
  it('takes only https in production, and http or https otherwise', () => {
    expect(() => checkUrlShape('http://example.com/hook', { httpsOnly: true, allowPrivate: false })).toThrow(
      'url must use https',
    );
    expect(checkUrlShape('https://example.com/hook', { httpsOnly: true, allowPrivate: false }).host).toBe(
      'example.com',
    );
    expect(checkUrlShape('http://example.com/hook', { httpsOnly: false, allowPrivate: false }).protocol).toBe(
      'http:',
    );
  });

  it('refuses other schemes, credentials and non-URLs', () => {
    const policy = { httpsOnly: false, allowPrivate: false };
    expect(() => checkUrlShape('ftp://example.com', policy)).toThrow(UnsafeUrlError);
    expect(() => checkUrlShape('https://user:pw@example.com', policy)).toThrow('credentials');
    expect(() => checkUrlShape('not a url', policy)).toThrow('absolute');
  });
});

describe(resolveSafe.name, () => {
  it('refuses a literal or resolved private address unless allowed', async () => {
    await expect(resolveSafe('127.0.0.1', false)).rejects.toThrow(/resolves to 127\.0\.0\.1/);
    await expect(resolveSafe('[::1]', false)).rejects.toThrow(/resolves to ::1/);
    await expect(resolveSafe('localhost', false)).rejects.toThrow(/loopback, private/);
    await expect(resolveSafe('127.0.0.1', true)).resolves.toEqual({ address: '127.0.0.1', family: 4 });
  });

  it('says when the host does not resolve', async () => {
    await expect(resolveSafe('no-such-host.invalid', false)).rejects.toThrow(/does not resolve/);
  });
});
