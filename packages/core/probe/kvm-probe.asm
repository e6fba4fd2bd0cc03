; Lago's accelerator probe: a guest that does what real guests' boot loaders and kernels do
; in their first second, and reports on COM1 how far it got.
;
; SeaBIOS loads the boot sector, which reads the rest through int 13h (as boot loaders do).
; Then: 32-bit protected mode with a TSS, hardware (PIT) and software interrupts returning
; with iret (syslinux's pattern, where a lying nested KVM dies with "emulation failure"),
; PAE paging and long mode through EFER, the MSRs a Linux kernel writes early, SSE, and
; interrupts and iretq in long mode. It prints "LAGO-PROBE-OK" and resets itself (a triple
; fault; the probe domain is defined with on_reboot=destroy). Any CPU exception prints
; "LAGO-PROBE-FAULT <vector>" and resets.
;
; Build: nasm -f bin -o kvm-probe.img kvm-probe.asm (then `npm run -w @lago/core probe-image`
; writes src/providers/libvirt/kvm-probe-image.ts; a unit test checks the two agree).

%define COM1 0x3f8
%define STAGE2 0x7e00
%define PAGE_TABLES 0x10000
%define STACK 0x7c00
%define TICKS 4
%define STUB_SIZE 16
%define STUB64_SIZE 16

BITS 16
ORG 0x7c00

boot:
	cli
	mov [boot_drive], dl
	xor ax, ax
	mov ds, ax
	mov es, ax
	mov ss, ax
	mov sp, STACK
	sti
	mov si, msg_boot
	call puts16
	mov si, dap
	mov dl, [boot_drive]
	mov ah, 0x42
	int 0x13
	jc .disk_error
	jmp 0:stage2
.disk_error:
	mov si, msg_disk
	call puts16
	jmp reset16

puts16:
	lodsb
	test al, al
	jz .done
	call putc16
	jmp puts16
.done:
	ret

putc16:
	mov dx, COM1 + 5
	mov ah, al
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	ret

reset16:
	cli
	lidt [null_idt]
	int 3

null_idt:
	dw 0
	dd 0

boot_drive: db 0x80

dap:
	db 0x10, 0
	dw STAGE2_SECTORS
	dw STAGE2, 0
	dq 1

msg_boot: db "LAGO-PROBE boot", 13, 10, 0
msg_disk: db "LAGO-PROBE-FAULT disk", 13, 10, 0

	times 510 - ($ - $$) db 0
	dw 0xaa55

; ---------------------------------------------------------------- stage 2, loaded at STAGE2 (right after the boot sector)
stage2:
	cli
	lgdt [gdt_descriptor]
	mov eax, cr0
	or eax, 1
	mov cr0, eax
	jmp CODE32:protected_mode

BITS 32
protected_mode:
	mov ax, DATA
	mov ds, ax
	mov es, ax
	mov fs, ax
	mov gs, ax
	mov ss, ax
	mov esp, STACK
	mov ax, TSS32
	ltr ax
	call fill_idt32
	lidt [idt32_descriptor]
	call timer_setup
	int 0x40                    ; software interrupt, iret
	cmp dword [soft_count], 1
	jne fault32_generic
	call wait_ticks32           ; hardware interrupts, iret
	mov esi, msg_protected
	call puts32

	; identity-map the first 1 GiB with 2 MiB pages
	mov edi, PAGE_TABLES
	mov ecx, 3 * 4096 / 4
	xor eax, eax
	rep stosd
	mov dword [PAGE_TABLES], PAGE_TABLES + 0x1000 + 3
	mov dword [PAGE_TABLES + 0x1000], PAGE_TABLES + 0x2000 + 3
	mov edi, PAGE_TABLES + 0x2000
	mov eax, 0x83
	mov ecx, 512
.map:
	mov [edi], eax
	mov dword [edi + 4], 0
	add eax, 0x200000
	add edi, 8
	loop .map

	mov eax, cr4
	or eax, (1 << 5) | (1 << 9) | (1 << 10)     ; PAE, OSFXSR, OSXMMEXCPT
	mov cr4, eax
	mov eax, PAGE_TABLES
	mov cr3, eax
	mov ecx, 0xc0000080                        ; EFER: LME, SCE, NXE
	rdmsr
	or eax, (1 << 8) | (1 << 0) | (1 << 11)
	wrmsr
	mov eax, cr0
	and eax, ~((1 << 2) | (1 << 30) | (1 << 29)) ; no EM, caches on
	or eax, (1 << 31) | (1 << 1) | (1 << 16)    ; PG, MP, WP
	mov cr0, eax
	jmp CODE64:long_mode

puts32:
	lodsb
	test al, al
	jz .done
	call putc32
	jmp puts32
.done:
	ret

putc32:
	mov dx, COM1 + 5
	mov ah, al
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	ret

timer_setup:
	; PIC: master at 0x20, slave at 0x28, only IRQ0 unmasked
	mov al, 0x11
	out 0x20, al
	out 0xa0, al
	mov al, 0x20
	out 0x21, al
	mov al, 0x28
	out 0xa1, al
	mov al, 4
	out 0x21, al
	mov al, 2
	out 0xa1, al
	mov al, 1
	out 0x21, al
	out 0xa1, al
	mov al, 0xfe
	out 0x21, al
	mov al, 0xff
	out 0xa1, al
	; PIT channel 0 at about 1 kHz
	mov al, 0x34
	out 0x43, al
	mov al, 0xa9
	out 0x40, al
	mov al, 0x04
	out 0x40, al
	ret

wait_ticks32:
	mov dword [ticks], 0
	sti
.wait:
	hlt
	cmp dword [ticks], TICKS
	jb .wait
	cli
	ret

; entry i of the 32-bit IDT points at stubs32 + i * STUB_SIZE (vectors 0-31), timer and soft
fill_idt32:
	mov edi, idt32
	mov ecx, (256 * 8 + 256 * 16) / 4
	xor eax, eax
	rep stosd
	mov edi, idt32
	mov ebx, exception_stubs32
	mov ecx, 32
.exceptions:
	call idt32_entry
	add ebx, STUB_SIZE
	loop .exceptions
	mov edi, idt32 + 0x20 * 8
	mov ebx, timer32
	call idt32_entry
	mov edi, idt32 + 0x40 * 8
	mov ebx, soft32
	call idt32_entry
	ret

idt32_entry:                    ; edi: entry, ebx: handler
	mov eax, ebx
	mov [edi], ax
	mov word [edi + 2], CODE32
	mov word [edi + 4], 0x8e00
	shr eax, 16
	mov [edi + 6], ax
	add edi, 8
	ret

timer32:
	push eax
	inc dword [ticks]
	mov al, 0x20
	out 0x20, al
	pop eax
	iret

soft32:
	inc dword [soft_count]
	iret

exception_stubs32:
%assign vector 0
%rep 32
	push strict dword vector
	jmp strict near fault32
	times 6 nop
%assign vector vector + 1
%endrep

fault32_generic:
	push dword 0xff
fault32:
	pop eax
	mov edi, msg_fault_vector
	call hex_byte
	mov esi, msg_fault
	call puts32
	cli
	lidt [null_idt32]
	int 3

hex_byte:                       ; al -> two hex digits at edi
	mov ah, al
	shr al, 4
	call .digit
	mov al, ah
	and al, 0x0f
.digit:
	add al, '0'
	cmp al, '9'
	jbe .store
	add al, 7
.store:
	mov [edi], al
	inc edi
	ret

null_idt32:
	dw 0
	dd 0

; ---------------------------------------------------------------- long mode
BITS 64
long_mode:
	mov ax, DATA
	mov ds, ax
	mov es, ax
	mov ss, ax
	xor ax, ax
	mov fs, ax
	mov gs, ax
	mov rsp, STACK
	call fill_idt64
	lidt [idt64_descriptor]

	; the MSRs a Linux kernel writes early in boot
	mov ecx, 0x277                  ; PAT
	mov eax, 0x00070406
	mov edx, 0x00070406
	wrmsr
	mov ecx, 0xc0000081             ; STAR
	xor eax, eax
	mov edx, (CODE32 << 16) | CODE64
	wrmsr
	mov ecx, 0xc0000082             ; LSTAR
	mov eax, syscall_target
	xor edx, edx
	wrmsr
	mov ecx, 0xc0000083             ; CSTAR
	wrmsr
	mov ecx, 0xc0000084             ; SFMASK
	mov eax, 0x47700
	xor edx, edx
	wrmsr
	mov ecx, 0xc0000100             ; FS_BASE
	xor eax, eax
	wrmsr
	mov ecx, 0xc0000101             ; GS_BASE
	wrmsr
	mov ecx, 0xc0000102             ; KERNEL_GS_BASE
	wrmsr
	mov ecx, 0x174                  ; SYSENTER_CS
	mov eax, CODE64
	wrmsr
	mov ecx, 0x175                  ; SYSENTER_ESP
	xor eax, eax
	wrmsr
	mov ecx, 0x176                  ; SYSENTER_EIP
	wrmsr
	mov ecx, 0x10                   ; TSC, read back
	rdmsr
	rdtsc
	xor eax, eax
	cpuid
	mov eax, 1
	cpuid

	; SSE, as compiled kernel code uses it
	movdqu xmm0, [rel sse_pattern]
	paddd xmm0, xmm0
	movdqu [rel sse_result], xmm0

	int 0x40
	cmp dword [rel soft_count], 2
	jne fault64_generic
	mov dword [rel ticks], 0
	sti
.wait:
	hlt
	cmp dword [rel ticks], TICKS
	jb .wait
	cli

	mov rsi, msg_ok
	call puts64
	lidt [rel null_idt64]
	int 3

syscall_target:
	hlt
	jmp syscall_target

puts64:
	lodsb
	test al, al
	jz .done
	mov ah, al
	mov dx, COM1 + 5
.wait:
	in al, dx
	test al, 0x20
	jz .wait
	mov al, ah
	mov dx, COM1
	out dx, al
	jmp puts64
.done:
	ret

fill_idt64:
	mov rdi, idt64
	mov rbx, exception_stubs64
	mov ecx, 32
.exceptions:
	call idt64_entry
	add rbx, STUB64_SIZE
	loop .exceptions
	mov rdi, idt64 + 0x20 * 16
	mov rbx, timer64
	call idt64_entry
	mov rdi, idt64 + 0x40 * 16
	mov rbx, soft64
	call idt64_entry
	ret

idt64_entry:                    ; rdi: entry, rbx: handler
	mov rax, rbx
	mov [rdi], ax
	mov word [rdi + 2], CODE64
	mov word [rdi + 4], 0x8e00
	shr rax, 16
	mov [rdi + 6], ax
	shr rax, 16
	mov [rdi + 8], eax
	mov dword [rdi + 12], 0
	add rdi, 16
	ret

timer64:
	push rax
	inc dword [rel ticks]
	mov al, 0x20
	out 0x20, al
	pop rax
	iretq

soft64:
	inc dword [rel soft_count]
	iretq

exception_stubs64:
%assign vector 0
%rep 32
	push strict dword vector
	jmp strict near fault64
	times 6 nop
%assign vector vector + 1
%endrep

fault64_generic:
	push 0xff
fault64:
	pop rax
	mov rdi, msg_fault_vector
	call hex_byte64
	mov rsi, msg_fault
	call puts64
	cli
	lidt [rel null_idt64]
	int 3

hex_byte64:
	mov ah, al
	shr al, 4
	call .digit
	mov al, ah
	and al, 0x0f
.digit:
	add al, '0'
	cmp al, '9'
	jbe .store
	add al, 7
.store:
	mov [rdi], al
	inc rdi
	ret

; ---------------------------------------------------------------- data
ALIGN 16
sse_pattern: dd 1, 2, 3, 4
sse_result: dd 0, 0, 0, 0
null_idt64:
	dw 0
	dq 0
ticks: dd 0
soft_count: dd 0
msg_protected: db "LAGO-PROBE protected-mode", 13, 10, 0
msg_ok: db "LAGO-PROBE-OK", 13, 10, 0
msg_fault: db "LAGO-PROBE-FAULT "
msg_fault_vector: db "??", 13, 10, 0

ALIGN 8
gdt:
	dq 0
CODE32 equ $ - gdt
	dq 0x00cf9a000000ffff
DATA equ $ - gdt
	dq 0x00cf92000000ffff
CODE64 equ $ - gdt
	dq 0x00af9a000000ffff
TSS32 equ $ - gdt
	dw tss32_end - tss32 - 1
	dw tss32
	db 0
	db 0x89
	db 0
	db 0
gdt_end:

gdt_descriptor:
	dw gdt_end - gdt - 1
	dd gdt

tss32:
	dd 0
	dd STACK                    ; esp0
	dd DATA                     ; ss0
	times 23 dd 0
tss32_end:

idt32_descriptor:
	dw 256 * 8 - 1
	dd idt32
idt64_descriptor:
	dw 256 * 16 - 1
	dq idt64

stage2_end:
STAGE2_SECTORS equ (stage2_end - stage2 + 511) / 512
	times STAGE2_SECTORS * 512 - (stage2_end - stage2) db 0

; Both IDTs live past the image; fill_idt32 zeroes them.
idt32 equ 0x20000
idt64 equ 0x20800
