// Material names are data (the stored name stays as recorded, in Chinese); in English the usual ones
// are shown in English. Unknown names (typed by a technician) are shown as typed.
import { lang } from "./i18n";

const EN: Record<string, string> = {
  生料带: "PTFE tape", 弯头: "Elbow", 角阀: "Angle valve", 软管: "Hose", 灯管: "Tube lamp", 开关面板: "Switch plate",
  空开: "Circuit breaker", 水龙头: "Tap", 胶水: "Glue", 螺丝: "Screws", 三通: "Tee", PPR管: "PPR pipe", 灯泡: "Bulb",
  插座面板: "Socket plate", 地漏: "Floor drain", 马桶配件: "Toilet parts", 密封圈: "Seal ring", 电线: "Wire",
  玻璃胶: "Silicone sealant", 阀门: "Valve", 水管: "Water pipe", 门锁: "Door lock", 合页: "Hinge", 灯具: "Light fitting",
  保险丝: "Fuse", 农药: "Pesticide", 喷头: "Sprinkler head", 垃圾袋: "Bin bags", 封条: "Seal strip", 抹布: "Cloth",
  拖把头: "Mop head", 按钮: "Button", 摄像头: "Camera", 水泥: "Cement", 油漆: "Paint", 消毒液: "Disinfectant",
  润滑油: "Lubricant", 清洁剂: "Detergent", 照明灯: "Lamp", 电池: "Battery", 绝缘胶布: "Insulating tape", 网线: "Network cable",
  肥料: "Fertiliser", 膨胀螺栓: "Expansion bolt", 苗木: "Seedlings", 草皮: "Turf", 警示带: "Warning tape", 读卡器: "Card reader",
  门滑块: "Door slider", 门禁卡: "Access card", 闭门器: "Door closer", 防护膜: "Protective film",
  平方米: "m²", 张: "sheet", 把: "pc", 株: "plant", 桶: "bucket", 节: "pc", 袋: "bag", 颗: "pc",
  个: "pc", 米: "m", 卷: "roll", 支: "pc", 套: "set", 只: "pc", 根: "pc", 块: "pc", 瓶: "bottle", 盒: "box",
};

/** A material (or unit) name as this screen's language says it. */
export function materialName(name: string): string {
  return lang.get() === "en" ? (EN[name] ?? name) : name;
}

/** "弯头 ×1个" / "Elbow ×1 pc". */
export function materialLine(m: { name: string; quantity: number; unit: string }): string {
  return lang.get() === "en" ? `${materialName(m.name)} ×${m.quantity} ${materialName(m.unit)}` : `${m.name} ×${m.quantity}${m.unit}`;
}
