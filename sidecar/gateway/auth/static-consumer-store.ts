import type { OAuth1Consumer, OAuth1ConsumerStore } from './oauth1-verifier';

/** Consumers held in memory, given at construction: for tests and fixed set-ups. */
export class StaticConsumerStore implements OAuth1ConsumerStore {
  private readonly byKey: ReadonlyMap<string, OAuth1Consumer>;

  constructor(consumers: readonly OAuth1Consumer[]) {
    this.byKey = new Map(consumers.map((consumer) => [consumer.key, consumer]));
  }

  /** The consumer with this key, if any. */
  find(key: string): Promise<OAuth1Consumer | undefined> {
    return Promise.resolve(this.byKey.get(key));
  }
}
