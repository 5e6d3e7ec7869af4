import { Initial1767225600000 } from './1767225600000-Initial.js';
import { Monitor1767225650000 } from './1767225650000-Monitor.js';
import { Realtime1767225700000 } from './1767225700000-Realtime.js';
import { Alerts1767225800000 } from './1767225800000-Alerts.js';
import { DepositWrites1767225900000 } from './1767225900000-DepositWrites.js';
import { HexChecks1767226000000 } from './1767226000000-HexChecks.js';
import { EventLogJson1767226100000 } from './1767226100000-EventLogJson.js';
import { NetworkStatus1767310000000 } from './1767310000000-NetworkStatus.js';
import { InternalTransfers1767320000000 } from './1767320000000-InternalTransfers.js';
import { Webhooks1767340000000 } from './1767340000000-Webhooks.js';
import { DepositsFillfactor1767350000000 } from './1767350000000-DepositsFillfactor.js';
import { DepositsTxHashIndex1767360000000 } from './1767360000000-DepositsTxHashIndex.js';
import { WebhookRetention1767370000000 } from './1767370000000-WebhookRetention.js';
import { EventLogRetention1767380000000 } from './1767380000000-EventLogRetention.js';

/** Every migration, oldest first. A new migration is added here as well as in its own file. */
export const MIGRATIONS = [
  Initial1767225600000,
  Monitor1767225650000,
  Realtime1767225700000,
  Alerts1767225800000,
  DepositWrites1767225900000,
  HexChecks1767226000000,
  EventLogJson1767226100000,
  NetworkStatus1767310000000,
  InternalTransfers1767320000000,
  Webhooks1767340000000,
  DepositsFillfactor1767350000000,
  DepositsTxHashIndex1767360000000,
  WebhookRetention1767370000000,
  EventLogRetention1767380000000,
];
