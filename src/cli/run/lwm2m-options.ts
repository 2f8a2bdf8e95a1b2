// --lwm2m-version and --lwm2m-formats of `gwmo device` and `gwmo fleet`, checked.
import { LWM2M_FORMATS, LWM2M_VERSIONS, type Lwm2mDeviceOptions } from '../../sim/lwm2m-device.ts';
import { oneOf } from '../options.ts';

export function lwm2mFormatOptions(version: string | undefined, formats: string | undefined): Pick<Lwm2mDeviceOptions, 'version' | 'formats'> {
  return {
    ...(version !== undefined ? { version: oneOf('--lwm2m-version', version, LWM2M_VERSIONS) } : {}),
    ...(formats !== undefined ? { formats: oneOf('--lwm2m-formats', formats, LWM2M_FORMATS) } : {}),
  };
}

