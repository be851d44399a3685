// Every route of the simulator, by collection. A new routes file is one line here; a later
// table's route for a key is tried before an earlier one's (see route.ts).
import { day2Routes } from './day2.ts';
import { diskRoutes } from './disks.ts';
import { infraRoutes } from './infra.ts';
import { jobRoutes } from './jobs.ts';
import { networkRoutes } from './networks.ts';
import { Routes } from './route.ts';
import { templateRoutes } from './templates.ts';
import { vmDeviceRoutes } from './vm-devices.ts';
import { vmRoutes } from './vms.ts';

export const ROUTES = new Routes([infraRoutes, templateRoutes, networkRoutes, diskRoutes, jobRoutes, vmRoutes, vmDeviceRoutes, day2Routes]);
