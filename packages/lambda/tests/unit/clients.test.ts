import { describe, expect, it } from 'vitest';
import { sdkPresigner } from '@presign-pipeline/core';
import { createClientCache } from '../../src/clients.js';

const env = { AWS_REGION: 'eu-west-1', AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'secret' };

describe('createClientCache presigner choice', () => {
  it('signs with the fast presigner by default, and its URLs equal the SDK presigner for the same client and clock', async () => {
    // Prepare
    const clients = createClientCache({
      clientConfig: { credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } },
    })(env, 'http://127.0.0.1:9000');

    // Act
    const viaDefault = clients.presigner;
    const reference = sdkPresigner({ client: clients.signingClient });
    const object = { bucket: 'reports', key: '2026/04/a b+c.pdf' };
    // Both presigners read the clock; sign within one second and retry once if the second ticked over.
    let fast = '';
    let sdk = '';
    for (let attempt = 0; attempt < 3; attempt++) {
      fast = await viaDefault.presign(object, { expiresIn: 900 });
      sdk = await reference.presign(object, { expiresIn: 900 });
      if (fast === sdk) break;
    }

    // Assess
    expect(typeof viaDefault.presignSync).toBe('function');
    expect(fast).toBe(sdk);
  });

  it("uses the SDK's presigner when asked", () => {
    const clients = createClientCache({ presigner: 'sdk' })(env);
    expect(clients.presigner.presignSync).toBeUndefined();
  });
});
