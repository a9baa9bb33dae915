import type { NkvmCommand } from './commandDeps';

export const openReportCommand: NkvmCommand = {
  id: 'nkvm.openReport',
  run(deps) {
    deps.showReport();
  },
};
