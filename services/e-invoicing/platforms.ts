import { createLocalPlatform } from './local-platform';
import type { PlatformAdapter } from './platform-adapter';

/** The platform adapter the settings name (EINVOICE_PLATFORM); a new platform adds its case here. */
export function platformAdapterOf(config: {
  EINVOICE_PLATFORM: 'local';
  EINVOICE_LOCAL_DIR: string;
}): PlatformAdapter {
  switch (config.EINVOICE_PLATFORM) {
    case 'local':
      return createLocalPlatform(config.EINVOICE_LOCAL_DIR);
  }
}
