import { describeAcrossProcesses } from './processes-scenario.js';

describeAcrossProcesses('postgres');
