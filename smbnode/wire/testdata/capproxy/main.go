// Command capproxy relays one SMB port to another and logs every
// NetBIOS-framed message as "C2S <hex>" or "S2C <hex>" (see ../README.md).
// usage: capproxy LISTEN_ADDR TARGET_ADDR OUTFILE
package main

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
)

func main() {
	ln, err := net.Listen("tcp", os.Args[1])
	if err != nil {
		panic(err)
	}
	out, err := os.OpenFile(os.Args[3], os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0644)
	if err != nil {
		panic(err)
	}
	var mu sync.Mutex
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go func() {
			s, err := net.Dial("tcp", os.Args[2])
			if err != nil {
				c.Close()
				return
			}
			pipe := func(dir string, dst, src net.Conn) {
				defer dst.Close()
				for {
					var h [4]byte
					if _, err := io.ReadFull(src, h[:]); err != nil {
						return
					}
					n := binary.BigEndian.Uint32(h[:]) & 0xFFFFFF
					b := make([]byte, n)
					if _, err := io.ReadFull(src, b); err != nil {
						return
					}
					mu.Lock()
					fmt.Fprintf(out, "%s %s\n", dir, hex.EncodeToString(b))
					mu.Unlock()
					dst.Write(h[:])
					dst.Write(b)
				}
			}
			go pipe("C2S", s, c)
			pipe("S2C", c, s)
		}()
	}
}
