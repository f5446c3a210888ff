package wire

import "fmt"

// Command is the SMB2 header Command field (MS-SMB2 2.2.1.2).
type Command uint16

// SMB2 commands (MS-SMB2 2.2.1.2).
const (
	CommandNegotiate      Command = 0x0000 // SMB2 NEGOTIATE
	CommandSessionSetup   Command = 0x0001 // SMB2 SESSION_SETUP
	CommandLogoff         Command = 0x0002 // SMB2 LOGOFF
	CommandTreeConnect    Command = 0x0003 // SMB2 TREE_CONNECT
	CommandTreeDisconnect Command = 0x0004 // SMB2 TREE_DISCONNECT
	CommandCreate         Command = 0x0005 // SMB2 CREATE
	CommandClose          Command = 0x0006 // SMB2 CLOSE
	CommandFlush          Command = 0x0007 // SMB2 FLUSH
	CommandRead           Command = 0x0008 // SMB2 READ
	CommandWrite          Command = 0x0009 // SMB2 WRITE
	CommandLock           Command = 0x000A // SMB2 LOCK
	CommandIoctl          Command = 0x000B // SMB2 IOCTL
	CommandCancel         Command = 0x000C // SMB2 CANCEL
	CommandEcho           Command = 0x000D // SMB2 ECHO
	CommandQueryDirectory Command = 0x000E // SMB2 QUERY_DIRECTORY
	CommandChangeNotify   Command = 0x000F // SMB2 CHANGE_NOTIFY
	CommandQueryInfo      Command = 0x0010 // SMB2 QUERY_INFO
	CommandSetInfo        Command = 0x0011 // SMB2 SET_INFO
	CommandOplockBreak    Command = 0x0012 // SMB2 OPLOCK_BREAK

	// NumCommands is one past the highest defined command.
	NumCommands = 0x0013
)

var commandNames = [NumCommands]string{
	"NEGOTIATE", "SESSION_SETUP", "LOGOFF", "TREE_CONNECT", "TREE_DISCONNECT",
	"CREATE", "CLOSE", "FLUSH", "READ", "WRITE", "LOCK", "IOCTL", "CANCEL",
	"ECHO", "QUERY_DIRECTORY", "CHANGE_NOTIFY", "QUERY_INFO", "SET_INFO",
	"OPLOCK_BREAK",
}

// String returns the MS-SMB2 name, e.g. "CREATE".
func (c Command) String() string {
	if c < NumCommands {
		return commandNames[c]
	}
	return fmt.Sprintf("COMMAND_0x%04X", uint16(c))
}
