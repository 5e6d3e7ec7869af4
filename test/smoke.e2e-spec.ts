import { signUp, startTestApp, type TestApp } from './helpers/app.js';

describe('smoke', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp();
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves health and a user', async () => {
    await app.http().get('/health').expect(200, { status: 'ok', database: 'up' });
    const user = await signUp(app);
    const me = await app.http().get('/users/me').set(user.auth).expect(200);
    expect(me.body.email).toBe(user.email);
  });
});
