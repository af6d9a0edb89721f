import { stopGround } from './ground';

/** Takes the control plane down at the end of the run, whatever the tests' outcome. */
export default function globalTeardown(): void {
  if (process.env.MTLS_KEEP_GROUND === '1') return;
  stopGround();
}
