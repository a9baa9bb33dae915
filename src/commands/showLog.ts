import type { NkvmCommand } from './commandDeps';

export const showLogCommand: NkvmCommand = {
  id: 'nkvm.showLog',
  run(deps) {
    deps.log.show();
  },
};
