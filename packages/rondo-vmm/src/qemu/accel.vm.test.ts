import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { scratchDirs } from 'rondo-testkit';
import { liveChildCount } from '../children.js';
import { needsVms, testGuest } from '../test-fixtures/vm.js';
import { chooseAccel, probeKvm } from './accel.js';
import { findQemu } from './command.js';

const scratch = scratchDirs('vmm-accel');

test(
  'the accelerator: TCG on request, KVM only when a guest boots under it, never a QEMU left',
  needsVms(),
  async () => {
    const guest = testGuest(join(scratch(), 'guest'));
    const qemu = findQemu();
    assert.deepEqual(await chooseAccel('tcg', qemu, guest, 'microvm'), {
      accel: 'tcg',
      reason: 'as asked (--accel tcg)',
    });
    const failure = await probeKvm(qemu, guest, 'microvm', 20_000);
    assert.equal(liveChildCount(), 0, 'the probe QEMU has exited');
    const auto = await chooseAccel('auto', qemu, guest, 'microvm', 20_000);
    if (failure === null) {
      assert.equal(auto.accel, 'kvm');
    } else {
      // This project's machines: a nested KVM that cannot boot the guest (see FACTS.md).
      assert.deepEqual(auto, { accel: 'tcg', reason: `KVM cannot boot a guest here (${failure})` });
      await assert.rejects(chooseAccel('kvm', qemu, guest, 'microvm', 20_000), {
        code: 'ERR_VMM_BOOT',
        message: /--accel kvm: KVM cannot boot a guest here: .* — use --accel auto or tcg/,
      });
    }
    assert.equal(liveChildCount(), 0);
  },
);
