# Host face of boot/acpi: parsers on bytes, and the search over simulated RAM.
from libc.stdint cimport int64_t, uint8_t, uint64_t
from tyn.boot.acpi cimport (acpi_rsdp, acpi_madt_info, acpi_rsdp_parse, acpi_table_check,
                            acpi_madt_parse, acpi_find_madt, acpi_error_name)
from tyn.arch.cpu cimport phys_to_virt
from tyn.twins.hostsim cimport host_phys_memory_size

cdef acpi_madt_info info

def rsdp(bytes data):
    """(status, revision, rsdt, xsdt)."""
    cdef acpi_rsdp out
    rc = acpi_rsdp_parse(<const uint8_t *><const char *>data, len(data), &out)
    if rc != 0:
        return rc, None, None, None
    return rc, out.revision, out.rsdt_address, out.xsdt_address

def table_check(bytes data, bytes signature):
    return acpi_table_check(<const uint8_t *><const char *>data, len(data), signature)

cdef dict madt_dict(int rc):
    return {
        "status": rc,
        "lapic_address": info.lapic_address,
        "flags": info.flags,
        "cpus_listed": info.cpus_listed,
        "cpus_dropped": info.cpus_dropped,
        "cpus": [(info.cpus[i].apic_id, info.cpus[i].uid) for i in range(info.cpu_count)],
        "ioapics": [(info.ioapics[i].id, info.ioapics[i].address, info.ioapics[i].gsi_base)
                    for i in range(info.ioapic_count)],
        "overrides": info.overrides,
    }

def madt(bytes data):
    rc = acpi_madt_parse(<const uint8_t *><const char *>data, len(data), &info)
    return madt_dict(rc)

cdef uint64_t maps

cdef const uint8_t *map_ram(uint64_t phys, uint64_t length) noexcept nogil:
    global maps
    maps += 1
    if phys + length < phys or phys + length > host_phys_memory_size():
        return NULL
    return <const uint8_t *>phys_to_virt(phys)

def find_madt():
    """acpi_find_madt over simulated RAM (machine.set_phys_memory / write_phys)."""
    rc = acpi_find_madt(map_ram, &info)
    return madt_dict(rc)

def error_name(int rc):
    return acpi_error_name(rc).decode()
