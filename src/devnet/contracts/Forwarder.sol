// SPDX-License-Identifier: MIT
pragma solidity 0.8.37;

/// Moves ETH with internal calls, for the monitor's internal-transfer tests and the devnet: a
/// payment splitter (`split`), a relay through another forwarder (`relay`: the value arrives two
/// calls deep) and an inner call that sends and then reverts while the transaction succeeds
/// (`sendThenSwallow`: no ETH moves). Compiled by `node dist/scripts/compile-contracts.js`; the
/// bytecode lives in forwarder.artifact.ts.
contract Forwarder {
    /// Sends amounts[i] to to[i], one call each; any failed call reverts the whole transaction.
    function split(address payable[] calldata to, uint256[] calldata amounts) public payable {
        require(to.length == amounts.length, "lengths");
        for (uint256 i = 0; i < to.length; i++) {
            (bool ok, ) = to[i].call{value: amounts[i]}("");
            require(ok, "transfer failed");
        }
    }

    /// Passes the whole value to `next.split`: each transfer is a call inside a call.
    function relay(Forwarder next, address payable[] calldata to, uint256[] calldata amounts) external payable {
        next.split{value: msg.value}(to, amounts);
    }

    /// Calls `sendThenRevert` on itself and ignores its failure: the inner transfer to `to` is
    /// undone, the transaction succeeds and the ETH stays here.
    function sendThenSwallow(address payable to) external payable {
        try this.sendThenRevert{value: msg.value}(to) {} catch {}
    }

    function sendThenRevert(address payable to) external payable {
        (bool ok, ) = to.call{value: msg.value}("");
        require(ok, "transfer failed");
        revert("undone");
    }

    receive() external payable {}
}
