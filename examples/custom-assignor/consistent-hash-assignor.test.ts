import { runAssignorConformance } from '../../core/testing/index.ts';
import { ConsistentHashAssignor } from './consistent-hash-assignor.ts';

runAssignorConformance('examples/custom-assignor consistent-hash', () => new ConsistentHashAssignor(), { balance: 'none' });
