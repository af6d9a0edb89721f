import { startGround, stopGround } from './ground';

/** Brings the real control plane up once for the whole integration run. */
export default function globalSetup(): void {
  try {
    const env = startGround();
    Object.assign(process.env, env);
  } catch (err) {
    // A half-started ground must not outlive the run: Jest skips the teardown when setup fails.
    stopGround();
    throw err;
  }
}
