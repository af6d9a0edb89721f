import { analyzePkcs12 } from '../../core/certificate';
import { isMachineFormat, renderDocument } from '../output/render';
import { PASSWORD_FLAGS, readPassword } from '../password';
import { buildP12Report, renderP12Report } from '../report/p12-report';
import { ExitStatus, type Command } from './command';
import { readOperandFile, singleOperand } from './operands';

/** `p12 test FILE`: the offline verdict on a PKCS#12 file, as the operator would judge it. */
export const p12TestCommand: Command = {
  words: ['p12', 'test'],
  operands: 'FILE',
  summary: 'check a PKCS#12 file offline: usable or not, and why',
  help: [
    'Opens the file with its password and runs the checks the operator runs: password,',
    'key match, key strength, validity, chain, client authentication, and which Java',
    'versions can read the file. Nothing leaves this machine.',
    'Exits 0 when the file is usable, 1 when it is not, 2 on a usage error.',
    '',
    'Examples:',
    '  kubectl mtls p12 test partner.p12            # asks for the password',
    '  kubectl mtls p12 test partner.p12 --password-file pw.txt -o json',
  ],
  flags: PASSWORD_FLAGS,
  outputs: ['text', 'json', 'yaml'],

  async run({ operands, args, output, io }) {
    const file = singleOperand(operands, 'FILE');
    const bytes = readOperandFile(file);
    const password = await readPassword(args, io, file);

    const now = io.now();
    const report = buildP12Report(file, analyzePkcs12(bytes, password, { now }), now);

    io.out(isMachineFormat(output) ? renderDocument(output, report) : renderP12Report(report));
    return report.usable ? ExitStatus.ok : ExitStatus.failed;
  },
};
