// The GwMO objects as gwmo builds them: one row per node. The node layout is gwmo's design in the
// spirit of GwMO 1.0 (the TS text was not available; see ../shared/spec/gwmo.md §1.7); MO names and
// URNs are the registered ones. docs/gwmo-mo.md and docs/gwmo-ddf.xml are generated from this table
// (npm run gen:docs) and a test keeps both, and the live tree, equal to it.
export interface NodeSpec {
  /** below ./GwMO; `<x>` = a name chosen at run time */
  readonly path: string;
  readonly format: 'node' | 'chr' | 'int' | 'bool' | 'xml' | 'null' | 'b64';
  /** G Get, A Add, R Replace, D Delete, E Exec */
  readonly access: string;
  /** 1 One, ? ZeroOrOne, * ZeroOrMore, + OneOrMore */
  readonly occurrence: '1' | '?' | '*' | '+';
  readonly type?: string;
  readonly description: string;
}

export const GWMO_SCHEMA: readonly NodeSpec[] = [
  {
    path: 'Config',
    format: 'node',
    access: 'G',
    occurrence: '1',
    type: 'urn:oma:mo:oma-gwmo-config:1.1',
    description: 'Gateway Config MO',
  },
  {
    path: 'Config/DefaultMode',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description:
      'mode for newly attached devices: 0 the gateway chooses (proxy for DM clients, adaptation otherwise), 1 transparent, 2 proxy, 3 adaptation (MOO-001)',
  },
  { path: 'Config/InventoryAlerts', format: 'node', access: 'G', occurrence: '1', description: 'switches for inventory alerts (DI-005)' },
  {
    path: 'Config/InventoryAlerts/Attach',
    format: 'bool',
    access: 'GR',
    occurrence: '1',
    description:
      'send urn:oma:at:oma-gwmo:deviceattached:1.1 when a device registers (DI-004); default true: the server learns from it which gateway a device is behind (device jobs, the dashboard device page)',
  },
  {
    path: 'Config/InventoryAlerts/Detach',
    format: 'bool',
    access: 'GR',
    occurrence: '1',
    description: 'send urn:oma:at:oma-gwmo:devicedetached:1.0 when a device turns detached; default false',
  },
  {
    path: 'Config/DetachTimeout',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'seconds of silence after which a device counts as detached (DI-003); default 300',
  },
  { path: 'Config/Fanout', format: 'node', access: 'G', occurrence: '1', description: 'fanout defaults' },
  {
    path: 'Config/Fanout/MaxConcurrency',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'devices worked on at once; default 50',
  },
  {
    path: 'Config/Fanout/DeviceTimeout',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: "seconds a device has to complete a job's commands; default 30",
  },
  {
    path: 'Config/Fanout/Retries',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'extra attempts for a device that timed out; default 1',
  },
  { path: 'Config/ImageStore', format: 'node', access: 'G', occurrence: '1', description: 'image storage on the gateway (DCIS)' },
  {
    path: 'Config/ImageStore/Enabled',
    format: 'bool',
    access: 'GR',
    occurrence: '1',
    description: 'store images for local download (DCIS-003); default true',
  },
  {
    path: 'Config/ImageStore/QuotaBytes',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'disk budget for stored images; unreferenced images are evicted (oldest first) to make room; default 1 GiB',
  },
  {
    path: 'Config/Retention',
    format: 'node',
    access: 'G',
    occurrence: '1',
    description: 'how long the gateway keeps history (docs/operations.md, Retention), set by the server (PUT /api/gateways/{id}/config)',
  },
  {
    path: 'Config/Retention/JobSeconds',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description:
      'seconds a finished fanout job and its per-device results are kept after it finished, once the server has had its result (default 604800, 7 days; 0 kept)',
  },
  {
    path: 'Config/Retention/Jobs',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'finished fanout jobs the server has had the result of, kept at most (default 1000; 0 no limit)',
  },
  {
    path: 'Config/Retention/OperationSeconds',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'seconds finished operations of proxied devices, and their alerts, are kept (default 604800; 0 kept)',
  },
  {
    path: 'Config/Retention/OperationsPerDevice',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'finished operations, and alerts, kept per proxied device (default 100; 0 no limit)',
  },
  {
    path: 'Config/Retention/IntervalSeconds',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'seconds between two pruning runs (default 600; 0 never)',
  },
  {
    path: 'Config/ServerAccount',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description:
      'ServerID of the account the gateway holds with the server: one account and one authentication for every device behind it (HLF-004, SECACATE-002)',
  },

  {
    path: 'DevInventory',
    format: 'node',
    access: 'G',
    occurrence: '1',
    type: 'urn:oma:mo:oma-gwmo-deviceinventory:1.1',
    description: 'Device Inventory MO',
  },
  { path: 'DevInventory/Summary', format: 'node', access: 'G', occurrence: '1', description: 'every count in one Get (DI-002)' },
  { path: 'DevInventory/Summary/Total', format: 'int', access: 'G', occurrence: '1', description: 'devices known' },
  { path: 'DevInventory/Summary/Attached', format: 'int', access: 'G', occurrence: '1', description: 'devices attached' },
  { path: 'DevInventory/Summary/Detached', format: 'int', access: 'G', occurrence: '1', description: 'devices detached' },
  { path: 'DevInventory/Summary/ByMode', format: 'node', access: 'G', occurrence: '1', description: 'counts per mode' },
  { path: 'DevInventory/Summary/ByMode/<x>', format: 'int', access: 'G', occurrence: '*', description: 'Transparent, Proxy, Adaptation' },
  { path: 'DevInventory/Summary/ByProtocol', format: 'node', access: 'G', occurrence: '1', description: 'counts per protocol' },
  {
    path: 'DevInventory/Summary/ByProtocol/<x>',
    format: 'int',
    access: 'G',
    occurrence: '*',
    description: 'e.g. OMA-DM%2F1.2 (node names escape "/")',
  },
  {
    path: 'DevInventory/Summary/ByType',
    format: 'node',
    access: 'G',
    occurrence: '1',
    description: 'counts per device type (DevDetail DevTyp)',
  },
  {
    path: 'DevInventory/Summary/ByType/<x>',
    format: 'int',
    access: 'G',
    occurrence: '*',
    description: 'one per type; "unknown" when the device did not say',
  },
  {
    path: 'DevInventory/Devices',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    description:
      'one node per end device; Add Devices/<DeviceID> (Format node) announces a device before it appears (HLF-003, B.6), its Credentials follow',
  },
  {
    path: 'DevInventory/Devices/<x>',
    format: 'node',
    access: 'GD',
    occurrence: '*',
    description: 'node name = the DeviceID, characters a URI segment cannot carry %XX-escaped; Delete forgets the device (DI-001)',
  },
  { path: 'DevInventory/Devices/<x>/DeviceID', format: 'chr', access: 'G', occurrence: '1', description: "the device's DevId" },
  {
    path: 'DevInventory/Devices/<x>/DeviceType',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description: 'DevDetail/DevTyp when reported',
  },
  { path: 'DevInventory/Devices/<x>/Man', format: 'chr', access: 'G', occurrence: '?', description: 'DevInfo/Man' },
  { path: 'DevInventory/Devices/<x>/Mod', format: 'chr', access: 'G', occurrence: '?', description: 'DevInfo/Mod' },
  {
    path: 'DevInventory/Devices/<x>/Serial',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description: 'serial number when reported (LwM2M /3/0/2)',
  },
  { path: 'DevInventory/Devices/<x>/FwV', format: 'chr', access: 'G', occurrence: '?', description: 'firmware version when reported' },
  { path: 'DevInventory/Devices/<x>/SwV', format: 'chr', access: 'G', occurrence: '?', description: 'software version when reported' },
  { path: 'DevInventory/Devices/<x>/HwV', format: 'chr', access: 'G', occurrence: '?', description: 'hardware version when reported' },
  { path: 'DevInventory/Devices/<x>/Lang', format: 'chr', access: 'G', occurrence: '?', description: 'DevInfo/Lang' },
  {
    path: 'DevInventory/Devices/<x>/Protocol',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description: 'OMA-DM/1.2, OMA-DM/1.3, LwM2M/1.1, …',
  },
  {
    path: 'DevInventory/Devices/<x>/Mode',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'mode in use: 1 transparent, 2 proxy, 3 adaptation; Replace forces one (MOO-001)',
  },
  {
    path: 'DevInventory/Devices/<x>/Status',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description:
      '1 attached, 0 detached (DI-003); the server writes 0 when the device turned up behind another gateway (only 0 may be written)',
  },
  { path: 'DevInventory/Devices/<x>/LastSeen', format: 'chr', access: 'G', occurrence: '1', description: 'last contact, ISO 8601 UTC' },
  {
    path: 'DevInventory/Devices/<x>/Awake',
    format: 'bool',
    access: 'G',
    occurrence: '?',
    description:
      'LwM2M queue mode only: true while the device listens (it spoke within the awake window), false while it sleeps; requests for it wait until it next speaks (docs/lwm2m.md)',
  },
  {
    path: 'DevInventory/Devices/<x>/Objects',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description:
      'LwM2M only, while registered: the objects and instances the device registered, in link format (`</1/0>,</3/0>,</3303/0>`), from its last Register or Update (the dashboard lists them)',
  },
  {
    path: 'DevInventory/Devices/<x>/NotifyProblem',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description:
      'DM devices, while they let Package#0 go unanswered, one keyed with the resynchronisation nonce included: since when (gone once the device opens a session)',
  },
  {
    path: 'DevInventory/Devices/<x>/ServerSecret',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description:
      "DM devices: the secret the gateway proves itself with to the device. Own (its own), Shared (the gateway's shared LAN secret, rotated in its next session), Rotating (a new one sent, not yet proven), Refused (it refused 3 rotations in a row: left on the shared one; docs/auth.md)",
  },
  { path: 'DevInventory/Devices/<x>/LocalAddress', format: 'chr', access: 'G', occurrence: '?', description: "the device's LAN address" },
  {
    path: 'DevInventory/Devices/<x>/PublicAddress',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description:
      'host:port where the device takes Package#0 from anywhere, when it has a routable address (B.1 bypass); from its DevInfo/Ext/PublicAddress',
  },
  {
    path: 'DevInventory/Devices/<x>/Groups',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description: 'comma-separated names of the groups holding the device',
  },
  { path: 'DevInventory/Devices/<x>/Sync', format: 'node', access: 'G', occurrence: '1', description: 'proxy state' },
  {
    path: 'DevInventory/Devices/<x>/Sync/Pending',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: 'commands queued for the device and not answered yet (0 = in the state asked for)',
  },
  {
    path: 'DevInventory/Devices/<x>/Credentials',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    description: 'what the device authenticates with toward the gateway; without it, the LAN enrolment secret',
  },
  {
    path: 'DevInventory/Devices/<x>/Credentials/AuthName',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: 'its name (CLCRED AAuthName at the gateway)',
  },
  {
    path: 'DevInventory/Devices/<x>/Credentials/AuthSecret',
    format: 'chr',
    access: 'AR',
    occurrence: '1',
    description: 'its secret; never read back (a Get gives nothing)',
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap',
    format: 'node',
    access: 'G',
    occurrence: '1',
    description: 'writing a DM account into the device (HLF-005/006); DM devices only',
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/Target',
    format: 'int',
    access: 'GAR',
    occurrence: '1',
    description: '1 = an account for the gateway (proxy mode), 2 = for the DM server (transparent mode)',
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/ServerID',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: 'ServerID of the account',
  },
  { path: 'DevInventory/Devices/<x>/Bootstrap/ServerURI', format: 'chr', access: 'GAR', occurrence: '1', description: 'its AppAddr' },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/AuthName',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: "the device's name at that server (CLCRED)",
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/AuthSecret',
    format: 'chr',
    access: 'AR',
    occurrence: '1',
    description: "the device's secret there; never read back",
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/ServerSecret',
    format: 'chr',
    access: 'AR',
    occurrence: '1',
    description: "the server's secret toward the device (SRVCRED: its Package#0); never read back",
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/Operations',
    format: 'node',
    access: 'G',
    occurrence: '1',
    description: 'what the bootstrap can be told',
  },
  {
    path: 'DevInventory/Devices/<x>/Bootstrap/Operations/Start',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      "write the account now: 202, then urn:x-gwmo:at:bootstrap:1.0 (Data = DM status, Correlator of the Exec); the device's Mode becomes 2 (Target 1) or 1 (Target 2); 412 a field missing, 410 detached, 406 not a DM device",
  },
  {
    path: 'DevInventory/Groups',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    description: 'device groups (Group-001); Add Groups/<name> with Format node creates one',
  },
  {
    path: 'DevInventory/Groups/<x>',
    format: 'node',
    access: 'GDR',
    occurrence: '*',
    description: 'one group, node name = its name; Delete removes it; Replace ?prop=Name renames it',
  },
  { path: 'DevInventory/Groups/<x>/Description', format: 'chr', access: 'GR', occurrence: '1', description: 'free text' },
  {
    path: 'DevInventory/Groups/<x>/Mode',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description:
      'mode policy for the members (MOO-001): 1 transparent, 2 proxy, 3 adaptation, applied to every member now and to members added later; 0 = none',
  },
  {
    path: 'DevInventory/Groups/<x>/Members',
    format: 'node',
    access: 'GAD',
    occurrence: '1',
    description: 'Add Members/<name> = a DeviceID adds a member; Delete of Members empties the group',
  },
  { path: 'DevInventory/Groups/<x>/Members/<x>', format: 'chr', access: 'GRD', occurrence: '*', description: 'a DeviceID' },

  {
    path: 'Fanout',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    type: 'urn:oma:mo:oma-gwmo-fanout:1.0',
    description: 'Fanout MO; Add Fanout/<name> with Format node creates a job',
  },
  { path: 'Fanout/<x>', format: 'node', access: 'GD', occurrence: '*', description: 'one job; Delete cancels and removes it' },
  { path: 'Fanout/<x>/Targets', format: 'node', access: 'GA', occurrence: '1', description: 'Add Targets/<name> = a URI' },
  {
    path: 'Fanout/<x>/Targets/<x>',
    format: 'chr',
    access: 'GRD',
    occurrence: '*',
    description: './GwMO/DevInventory/Devices/<d> or ./GwMO/DevInventory/Groups/<g>',
  },
  {
    path: 'Fanout/<x>/Commands',
    format: 'xml',
    access: 'GAR',
    occurrence: '?',
    description:
      'SyncML commands (Get, Replace, Add, Delete, Exec, Copy) as a SyncBody fragment, URIs relative to the device root; checked when written (400 malformed, 406 unsupported command)',
  },
  { path: 'Fanout/<x>/Options', format: 'node', access: 'GA', occurrence: '1', description: 'per-job overrides of Config/Fanout' },
  { path: 'Fanout/<x>/Options/Timeout', format: 'int', access: 'GAR', occurrence: '?', description: 'seconds per device' },
  { path: 'Fanout/<x>/Options/Retries', format: 'int', access: 'GAR', occurrence: '?', description: 'extra attempts per device' },
  { path: 'Fanout/<x>/Options/Concurrency', format: 'int', access: 'GAR', occurrence: '?', description: 'devices at once' },
  { path: 'Fanout/<x>/Operations', format: 'node', access: 'G', occurrence: '1', description: 'what the job can be told' },
  {
    path: 'Fanout/<x>/Operations/Start',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      "start: 202 and the Exec's Correlator comes back on the completion alerts; 412 no targets or commands, 404 unknown device or group, 409 already running",
  },
  { path: 'Fanout/<x>/Operations/Cancel', format: 'null', access: 'E', occurrence: '1', description: 'stop a running job (State 40)' },
  {
    path: 'Fanout/<x>/State',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: '10 created, 20 running, 30 completed, 40 cancelled',
  },
  { path: 'Fanout/<x>/Progress', format: 'node', access: 'G', occurrence: '1', description: 'counts' },
  { path: 'Fanout/<x>/Progress/Total', format: 'int', access: 'G', occurrence: '1', description: 'target devices' },
  { path: 'Fanout/<x>/Progress/Done', format: 'int', access: 'G', occurrence: '1', description: 'devices with a result' },
  { path: 'Fanout/<x>/Progress/Succeeded', format: 'int', access: 'G', occurrence: '1', description: 'results with a 2xx status' },
  {
    path: 'Fanout/<x>/Progress/Failed',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: 'the others, but those in doubt',
  },
  {
    path: 'Fanout/<x>/Progress/InDoubt',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: 'results with an Add, Exec or Copy sent and never answered (408, not sent again): whether it ran is unknown',
  },
  {
    path: 'Fanout/<x>/Progress/Downloads',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description:
      'devices still running that have fetched image bytes from this gateway: a line each, "<DeviceID, percent-encoded> <bytes> <size>" (300 at most); absent when there is none',
  },
  { path: 'Fanout/<x>/Aggregate', format: 'node', access: 'G', occurrence: '1', description: 'devices per outcome (FORA-002)' },
  {
    path: 'Fanout/<x>/Aggregate/<x>',
    format: 'int',
    access: 'G',
    occurrence: '*',
    description: 'node name = a DM status code; value = devices whose outcome it was',
  },
  {
    path: 'Fanout/<x>/Results',
    format: 'node',
    access: 'G',
    occurrence: '1',
    description: 'one entry per device, written once when its outcome is known',
  },
  { path: 'Fanout/<x>/Results/<x>', format: 'node', access: 'G', occurrence: '*', description: 'numbered 1…n' },
  { path: 'Fanout/<x>/Results/<x>/DeviceID', format: 'chr', access: 'G', occurrence: '1', description: 'the device' },
  {
    path: 'Fanout/<x>/Results/<x>/Status',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description:
      'outcome: 200 when every command succeeded, else the highest failing status (404 unknown device, 410 detached, 408 no answer in time)',
  },
  {
    path: 'Fanout/<x>/Results/<x>/InDoubt',
    format: 'bool',
    access: 'G',
    occurrence: '?',
    description: 'true when a command was sent and never answered and must not run twice: whether it ran is unknown',
  },
  { path: 'Fanout/<x>/Results/<x>/Cmd', format: 'node', access: 'G', occurrence: '1', description: 'per command, in order' },
  { path: 'Fanout/<x>/Results/<x>/Cmd/<x>', format: 'node', access: 'G', occurrence: '*', description: 'numbered 1…n' },
  { path: 'Fanout/<x>/Results/<x>/Cmd/<x>/Status', format: 'int', access: 'G', occurrence: '1', description: "the device's Status" },
  {
    path: 'Fanout/<x>/Results/<x>/Cmd/<x>/Data',
    format: 'chr',
    access: 'G',
    occurrence: '?',
    description: 'the value a Get returned (b64 for binary formats)',
  },
  { path: 'Fanout/<x>/Results/<x>/Cmd/<x>/Format', format: 'chr', access: 'G', occurrence: '?', description: 'its Format' },

  {
    path: 'Observations',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    type: 'urn:x-gwmo:mo:lwm2m-observations:1.0',
    description:
      'LwM2M observations (a gwmo extension, docs/lwm2m.md); Add Observations/<name> with Format node creates one (405 when the gateway has no LwM2M server)',
  },
  {
    path: 'Observations/<x>',
    format: 'node',
    access: 'GD',
    occurrence: '*',
    description: 'one observation, kept across restarts and set again when a device registers; Delete cancels it on every device',
  },
  {
    path: 'Observations/<x>/Path',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description: 'what to observe on each device: ./3303/0/5700, ./3303/0, ./DevDetail/FwV …',
  },
  {
    path: 'Observations/<x>/Devices',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description: 'comma-separated device ids (LwM2M endpoint names)',
  },
  {
    path: 'Observations/<x>/Groups',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description: 'comma-separated inventory groups whose members are observed too (empty: none)',
  },
  {
    path: 'Observations/<x>/Attributes',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description:
      'notification attributes written with Write-Attributes before Observe: pmin=10&pmax=60&gt=30&lt=5&st=0.5 (empty: none); 400 for other names',
  },
  { path: 'Observations/<x>/Operations', format: 'node', access: 'G', occurrence: '1', description: 'what the observation can be told' },
  {
    path: 'Observations/<x>/Operations/Start',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      'observe on the devices now (sleeping ones when they wake); notifications come as org.gwmo.lwm2m.notify alerts; 412 no Path, or neither Devices nor Groups; 409 started already (a started observation is not edited: its fields answer 405)',
  },
  { path: 'Observations/<x>/Active', format: 'int', access: 'G', occurrence: '1', description: 'how many devices it is observed on now' },
  {
    path: 'LwM2MCredentials',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    type: 'urn:x-gwmo:mo:lwm2m-credentials:1.0',
    description:
      'LwM2M credentials per endpoint (a gwmo extension, docs/lwm2m.md "Security"); Add LwM2MCredentials/<endpoint> with Format node creates an entry (418 when it exists)',
  },
  {
    path: 'LwM2MCredentials/<x>',
    format: 'node',
    access: 'GD',
    occurrence: '*',
    description: 'one LwM2M endpoint (its name escaped as a DeviceID is); Delete forgets its keys: its next handshake fails',
  },
  {
    path: 'LwM2MCredentials/<x>/Endpoint',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description: 'the endpoint name (ep=) the keys bind',
  },
  {
    path: 'LwM2MCredentials/<x>/Identity',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: 'PSK identity (UTF-8, 1–128 characters, no control characters); 409 when another endpoint holds it',
  },
  {
    path: 'LwM2MCredentials/<x>/SecretKey',
    format: 'chr',
    access: 'AR',
    occurrence: '1',
    description:
      'the PSK, hex (16–64 bytes); never read back (a Get is 405). A new key replaces the current one, which is still accepted until the device completes a handshake with the new one',
  },
  {
    path: 'LwM2MCredentials/<x>/PublicKey',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: "RPK mode: the device's EC P-256 public key, SubjectPublicKeyInfo DER in base64 (400 for another key)",
  },
  {
    path: 'LwM2MCredentials/<x>/BootstrapIdentity',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: "PSK identity of the device's bootstrap account on this gateway's bootstrap server",
  },
  {
    path: 'LwM2MCredentials/<x>/BootstrapSecretKey',
    format: 'chr',
    access: 'AR',
    occurrence: '1',
    description: 'its PSK, hex (16–64 bytes); never read back (a Get is 405)',
  },
  {
    path: 'LwM2MCredentials/<x>/ServerURI',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description:
      "bootstrap target: empty = this gateway's LwM2M server (HLF-005's counterpart), else coap://host:port or coaps://host:port of another LwM2M server (HLF-006's)",
  },
  {
    path: 'LwM2MCredentials/<x>/Fingerprint',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description: 'sha256:<hex> of the current PSK (or of the public key): which key is held, without the key',
  },
  {
    path: 'LwM2MCredentials/<x>/Rotating',
    format: 'bool',
    access: 'G',
    occurrence: '1',
    description: 'true while the key before the last rotation is still accepted (the device has not used the new one yet)',
  },
  {
    path: 'Images',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    type: 'urn:oma:mo:oma-gwmo-imageinventory:1.0',
    description: 'Image Inventory MO (DCIS-001/002, B.8); Add Images/<name> with Format node creates an entry',
  },
  {
    path: 'Images/<x>',
    format: 'node',
    access: 'GD',
    occurrence: '*',
    description: 'one image as the server named it; several entries may share one stored file; Delete = Operations/Remove',
  },
  { path: 'Images/<x>/ImageID', format: 'chr', access: 'GR', occurrence: '1', description: "the server's id for the image" },
  { path: 'Images/<x>/Name', format: 'chr', access: 'G', occurrence: '1', description: "the entry's name" },
  { path: 'Images/<x>/Version', format: 'chr', access: 'GR', occurrence: '1', description: 'version text' },
  { path: 'Images/<x>/ContentType', format: 'chr', access: 'GR', occurrence: '1', description: 'MIME type served to devices' },
  {
    path: 'Images/<x>/Size',
    format: 'int',
    access: 'GR',
    occurrence: '1',
    description: 'bytes expected (checked on arrival); empty until known',
  },
  {
    path: 'Images/<x>/Hash',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description: '"sha256:<hex>": checked on arrival, and the key the file is stored under (one copy per hash)',
  },
  {
    path: 'Images/<x>/DownloadURL',
    format: 'chr',
    access: 'GR',
    occurrence: '1',
    description: 'where the gateway fetches it (http or https; resumed with Range after a cut)',
  },
  { path: 'Images/<x>/Operations', format: 'node', access: 'G', occurrence: '1', description: 'what the entry can be told' },
  {
    path: 'Images/<x>/Operations/Download',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      'fetch now: 202, then urn:oma:at:oma-gwmo:imageready:1.0 (Data = LocalURL; Mark critical with an error text on failure; Mark warning with the server URL when storage is off); 412 no DownloadURL. A download cut by a restart resumes when the gateway starts (HTTP Range from the bytes on disk, SHA-256 checked); one left downloading anyway is started again by this Exec',
  },
  {
    path: 'Images/<x>/Operations/Remove',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description: 'forget the entry; the file goes when no other entry refers to it',
  },
  {
    path: 'Images/<x>/Operations/Cancel',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      'stop a download under way (its imageready alert: Mark critical, "cancelled: …") or one a crash left downloading; 405 for a stored image (Remove it)',
  },
  {
    path: 'Images/<x>/State',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: '10 idle, 20 downloading, 30 stored, 40 failed, 50 not stored (storage switched off: devices fetch from DownloadURL)',
  },
  {
    path: 'Images/<x>/BytesReceived',
    format: 'int',
    access: 'G',
    occurrence: '1',
    description: 'progress while downloading; the size once stored',
  },
  {
    path: 'Images/<x>/LocalURL',
    format: 'chr',
    access: 'G',
    occurrence: '1',
    description:
      'the URL devices fetch: http://<gateway LAN>/img/<sha256> (Range, HEAD, ETag), or DownloadURL when storage is off; empty otherwise',
  },
  { path: 'Images/<x>/Error', format: 'chr', access: 'G', occurrence: '?', description: 'why the last download failed' },
  {
    path: 'EDTrigger',
    format: 'node',
    access: 'GA',
    occurrence: '1',
    type: 'urn:oma:mo:oma-gwmo-edtrigger:1.0',
    description:
      'End Device Trigger MO (transparent mode, TMode-001); Add EDTrigger/<name> with Format node creates a delivery request (kept in memory)',
  },
  { path: 'EDTrigger/<x>', format: 'node', access: 'GD', occurrence: '*', description: 'one delivery request' },
  {
    path: 'EDTrigger/<x>/DeviceID',
    format: 'chr',
    access: 'GAR',
    occurrence: '1',
    description: 'the target device (a DeviceID of the inventory)',
  },
  {
    path: 'EDTrigger/<x>/Notification',
    format: 'b64',
    access: 'GAR',
    occurrence: '1',
    description:
      "the Package#0 exactly as the server built it for the device (its digest is keyed with the device's credentials, so only the device checks it)",
  },
  { path: 'EDTrigger/<x>/Operations', format: 'node', access: 'G', occurrence: '1', description: 'what the request can be told' },
  {
    path: 'EDTrigger/<x>/Operations/Trigger',
    format: 'null',
    access: 'E',
    occurrence: '1',
    description:
      "check and forward now; the Exec's status: 200 forwarded, 400 not a Package#0, 403 it names another server, 404 unknown device, 409 replay (same digest or session id), 410 detached, 412 DeviceID or Notification missing, 503 the device's notification address is unknown",
  },
  { path: 'EDTrigger/<x>/Status', format: 'int', access: 'G', occurrence: '1', description: "the last Trigger's status (0 before any)" },
  { path: 'EDTrigger/<x>/Reason', format: 'chr', access: 'G', occurrence: '1', description: "the last Trigger's outcome in words" },
];

/** The schema row a concrete path (below ./GwMO) falls under: a fixed name wins over <x>. */
export function specOf(path: string): NodeSpec | undefined {
  const parts = path.split('/');
  let best: NodeSpec | undefined;
  let fewest = Infinity;
  for (const s of GWMO_SCHEMA) {
    const sp = s.path.split('/');
    if (sp.length !== parts.length || !sp.every((seg, i) => seg === '<x>' || seg === parts[i])) continue;
    const wild = sp.filter((seg) => seg === '<x>').length;
    if (wild < fewest) {
      best = s;
      fewest = wild;
    }
  }
  return best;
}
