import { BrokerError } from '../../core/index.ts';

const LEGAL = /^[a-zA-Z0-9._-]+$/;

/** Kafka's topic name rules: 1-249 characters of [a-zA-Z0-9._-], not . or .. */
export function checkKafkaTopicName(name: string): void {
  if (name.length === 0 || name.length > 249 || !LEGAL.test(name) || name === '.' || name === '..') {
    throw new BrokerError('INVALID_TOPIC', `topic name ${JSON.stringify(name)} is not valid: 1-249 characters of [a-zA-Z0-9._-], not . or ..`);
  }
}
